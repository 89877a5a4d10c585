import Foundation
import Testing
@testable import Tributary
import TributaryTesting

/// `tributary bench --quick --json` runs the built-in recovery benchmarks and reports one
/// recovery per injected failure and an exactly-once output for each scenario.
@Suite struct BenchCommandTests {
    @Test(.timeLimit(.minutes(3))) func quickBenchReportsEveryInjectedFailureAndExactlyOnce() async throws {
        let folder = try TemporaryDirectory()
        let child = try ChildProcess(
            executable: WatchdogTests.binary("tributary"), arguments: ["bench", "--quick", "--json", "--svg", folder.path("charts")])
        let data = Data(await child.text().utf8)
        #expect(await child.waitForExit() == 0)
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let scenarios = try #require(document["scenarios"] as? [[String: Any]])
        #expect(scenarios.map { $0["name"] as? String } == ["operator restarts", "checkpoint restores"])
        #expect(scenarios.map { $0["recoveries"] as? Int } == [50, 3], "one recovery per injected failure")
        #expect(scenarios.allSatisfy { $0["exactly_once"] as? Bool == true })
        #expect(scenarios.allSatisfy { $0["p99_ms"] is Double })
        for chart in ["recovery-latency.svg", "throughput.svg"] {
            let svg = try String(contentsOfFile: folder.path("charts/\(chart)"), encoding: .utf8)
            #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>"))
        }
    }
}
