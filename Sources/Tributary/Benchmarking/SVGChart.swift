import Foundation

/// A small SVG writer for the benchmarks' charts: a bar chart (latency distribution) and a line
/// chart with marked moments (throughput over time, failures as red lines). No dependencies.
package struct SVGChart {
    let title: String

    package init(title: String) {
        self.title = title
    }

    let width = 720.0
    let height = 320.0
    let margin = (left: 64.0, right: 20.0, top: 36.0, bottom: 44.0)

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    private func frame(xLabel: String, yLabel: String, yMax: Double, body: String) -> String {
        let plotHeight = height - margin.top - margin.bottom
        var ticks = ""
        for step in 0...4 {
            let value = yMax * Double(step) / 4
            let y = margin.top + plotHeight * (1 - Double(step) / 4)
            ticks += "<line x1='\(margin.left)' y1='\(y)' x2='\(width - margin.right)' y2='\(y)' stroke='#ddd'/>"
            ticks += "<text x='\(margin.left - 6)' y='\(y + 4)' font-size='11' text-anchor='end'>\(String(format: value < 10 ? "%.2f" : "%.0f", value))</text>"
        }
        return """
            <svg xmlns='http://www.w3.org/2000/svg' width='\(Int(width))' height='\(Int(height))' font-family='sans-serif'>
            <rect width='100%' height='100%' fill='white'/>
            <text x='\(width / 2)' y='20' font-size='14' text-anchor='middle'>\(escape(title))</text>
            \(ticks)
            \(body)
            <text x='\(width / 2)' y='\(height - 8)' font-size='12' text-anchor='middle'>\(escape(xLabel))</text>
            <text x='14' y='\(height / 2)' font-size='12' text-anchor='middle' transform='rotate(-90 14 \(height / 2))'>\(escape(yLabel))</text>
            </svg>
            """
    }

    /// Bars: one per bucket, labelled below.
    package func bars(_ buckets: [(label: String, value: Double)], xLabel: String, yLabel: String) -> String {
        let plotWidth = width - margin.left - margin.right
        let plotHeight = height - margin.top - margin.bottom
        let yMax = max(buckets.map(\.value).max() ?? 1, 1)
        let barWidth = plotWidth / Double(max(buckets.count, 1))
        var body = ""
        for (index, bucket) in buckets.enumerated() {
            let barHeight = plotHeight * bucket.value / yMax
            let x = margin.left + Double(index) * barWidth
            body += "<rect x='\(x + 2)' y='\(margin.top + plotHeight - barHeight)' width='\(max(barWidth - 4, 1))' height='\(barHeight)' fill='#4a7bd0'/>"
            body += "<text x='\(x + barWidth / 2)' y='\(height - margin.bottom + 14)' font-size='10' text-anchor='middle'>\(escape(bucket.label))</text>"
        }
        return frame(xLabel: xLabel, yLabel: yLabel, yMax: yMax, body: body)
    }

    /// A line through `points` (x, y), with vertical red lines at `marks`; `baseline`, if
    /// given, a grey line beneath it (the same work without faults), and `greenMarks` green
    /// lines (checkpoints).
    package func line(
        _ points: [(x: Double, y: Double)], marks: [Double], xLabel: String, yLabel: String, baseline: [(x: Double, y: Double)] = [],
        greenMarks: [Double] = []
    ) -> String {
        let plotWidth = width - margin.left - margin.right
        let plotHeight = height - margin.top - margin.bottom
        let xMax = max(points.map(\.x).max() ?? 1, baseline.map(\.x).max() ?? 0, marks.max() ?? 0, 1e-9)
        let yMax = max(points.map(\.y).max() ?? 1, baseline.map(\.y).max() ?? 0, 1e-9)
        func px(_ x: Double) -> Double { margin.left + plotWidth * x / xMax }
        func py(_ y: Double) -> Double { margin.top + plotHeight * (1 - y / yMax) }
        var body = ""
        if !baseline.isEmpty {
            let path = baseline.map { "\(px($0.x)),\(py($0.y))" }.joined(separator: " ")
            body += "<polyline fill='none' stroke='#aaa' stroke-width='1.5' points='\(path)'/>"
        }
        let path = points.map { "\(px($0.x)),\(py($0.y))" }.joined(separator: " ")
        body += "<polyline fill='none' stroke='#4a7bd0' stroke-width='1.5' points='\(path)'/>"
        for mark in greenMarks {
            body += "<line x1='\(px(mark))' y1='\(margin.top)' x2='\(px(mark))' y2='\(margin.top + plotHeight)' stroke='#3a9a4a' stroke-dasharray='2 4'/>"
        }
        for mark in marks {
            body += "<line x1='\(px(mark))' y1='\(margin.top)' x2='\(px(mark))' y2='\(margin.top + plotHeight)' stroke='#d04a4a' stroke-dasharray='4 3'/>"
        }
        for step in 0...4 {
            let x = xMax * Double(step) / 4
            body += "<text x='\(px(x))' y='\(height - margin.bottom + 14)' font-size='10' text-anchor='middle'>\(String(format: "%.2f", x))</text>"
        }
        return frame(xLabel: xLabel, yLabel: yLabel, yMax: yMax, body: body)
    }
}
