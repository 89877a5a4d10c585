import Foundation
import Testing
import Tributary

/// The README's pipeline, verbatim but for the file paths, so the README stays true.
@Suite struct ReadmeExampleTests {
    struct Reading: Codable, Sendable {
        var sensor: String
        var celsius: Double
    }

    struct Mean: Codable, Sendable {
        var count = 0
        var value = 0.0
    }

    struct BadLine: Error {
        let line: String
    }

    @Test func theReadmePipelineRuns() async throws {
        let directory = try TemporaryDirectory()
        let input = try directory.write("readings.csv", "a,20\nb,31.5\na,22\nb,28.5\nc,40\n")
        let alertsPath = directory.path("alerts.txt")

        let env = try LocalEnvironment("sensors", config: [
            "fault_tolerance": ["strategy": "restart", "restart_strategy": "fixed", "delay": 0.5],
            "batch_size": 1024,
        ])

        let means = CollectSink<(String, Double)>()
        let alerts = FileSink<String>(path: alertsPath)

        let readings = env.fromSource(FileSource(path: input))
            .map { line -> Reading in
                let fields = line.split(separator: ",")
                guard fields.count == 2, let celsius = Double(fields[1]) else { throw BadLine(line: line) }
                return Reading(sensor: String(fields[0]), celsius: celsius)
            }
            .named("parse")

        readings
            .keyBy { $0.sensor }
            .mapWithState(initial: Mean()) { (mean: inout Mean, reading: Reading) in
                mean.count += 1
                mean.value += (reading.celsius - mean.value) / Double(mean.count)
                return (reading.sensor, mean.value)
            }
            .parallelism(2)
            .sink(means)

        readings
            .filter { $0.celsius > 30 }
            .map { "\($0.sensor) is at \($0.celsius) °C" }
            .sink(alerts)

        let result = try await env.submit()
        #expect(result.status == .completed)
        var latest: [String: Double] = [:]
        for (sensor, mean) in means.values { latest[sensor] = mean }
        #expect(latest == ["a": 21, "b": 30, "c": 40])
        let alertLines = try String(contentsOfFile: alertsPath, encoding: .utf8)
        #expect(alertLines == "b is at 31.5 °C\nc is at 40.0 °C\n")
    }
}
