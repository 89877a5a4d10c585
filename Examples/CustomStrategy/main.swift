import Tributary

// Registers the "retry_then_skip" strategy and runs a pipeline whose parser fails on a few
// lines: transient failures succeed on retry, a permanently bad line ends up in the dead letters.

try FaultToleranceRegistry.register("retry_then_skip") { options in try RetryThenSkip(options: options) }

let env = try LocalEnvironment("custom_strategy", config: [
    "fault_tolerance": ["strategy": "retry_then_skip", "retries": 2, "delay": 0.01],
])

let lines = (1...20).map { $0 == 13 ? "thirteen" : String($0) }
let flaky = FlakyOnce()
let sink = CollectSink<Int>()
env.fromCollection(lines)
    .map { line -> Int in
        if flaky.shouldFail(line) { throw TransientError(line: line) }
        guard let value = Int(line) else { throw ParseError(line: line) }
        return value
    }
    .named("parse")
    .sink(sink)

let result = try await env.submit()
print("parsed \(sink.values.count) of \(lines.count) lines: \(sink.values)")
print("restarts: \(result.restarts.count) (one per transient failure, two retries of the bad line)")
for letter in result.deadLetters { print("dead letter: \(letter)") }
