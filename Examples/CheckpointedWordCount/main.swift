import Foundation
import Tributary

// Word count over a file with checkpoints: kill it at any moment (even with kill -9), run the
// same command again, and it resumes from its latest checkpoint; the output file ends up exactly
// as if it had never been interrupted.
//
//   swift run CheckpointedWordCount <input.txt> <output.txt> [--job-id ID] [--state-dir DIR]
//
// Each output line is "<word> <count so far>", in input order. The test suite's kill test runs
// this program, kills it with SIGKILL several times and checks the output.

/// Options (`--name value`) and the positional arguments left.
func parse(_ arguments: [String]) -> (options: [String: String], positional: [String]) {
    var options: [String: String] = [:]
    var positional: [String] = []
    var index = 0
    while index < arguments.count {
        if arguments[index].hasPrefix("--"), index + 1 < arguments.count {
            options[arguments[index]] = arguments[index + 1]
            index += 2
        } else {
            positional.append(arguments[index])
            index += 1
        }
    }
    return (options, positional)
}
let (options, arguments) = parse(Array(CommandLine.arguments.dropFirst()))
let jobID = options["--job-id"] ?? "wordcount"
let stateDirectory = options["--state-dir"] ?? ".tributary-wordcount"
let interval = options["--checkpoint-interval"].flatMap(Double.init) ?? 0.05
let work = options["--work"].flatMap(Int.init) ?? 0
// --trap-at N --trap-times K --trap-file F: crash the process (a force unwrap of nil, as a bug in
// user code would) when some word's count reaches N, in the first K runs; F counts the traps.
// The watchdog test uses it: no in-process supervisor can catch a trap.
let trapAt = options["--trap-at"].flatMap(Int.init)
let trapTimes = options["--trap-times"].flatMap(Int.init) ?? 1
let trapFile = options["--trap-file"] ?? "traps.count"

/// Traps (force-unwraps nil) unless `trapTimes` traps were already recorded in `trapFile`.
@Sendable func trapIfDue() {
    let done = (try? String(contentsOfFile: trapFile, encoding: .utf8)).flatMap { Int($0) } ?? 0
    guard done < trapTimes else { return }
    let handle = FileManager.default.createFile(atPath: trapFile, contents: Data(String(done + 1).utf8)) ? FileHandle(forWritingAtPath: trapFile) : nil
    try? handle?.synchronize()
    let missing: Int? = nil
    _ = missing! + 1
}
guard arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: CheckpointedWordCount <input.txt> <output.txt> [--job-id ID] [--state-dir DIR]\n".utf8))
    exit(ExitStatus.usage)
}
let (input, output) = (arguments[0], arguments[1])

// --crash-at N --crash-times K: fault_injection ends the process (crash_process) at the N-th word
// the counter sees, in the first K starts (counted in --trap-file).
var faultInjection: [ConfigValue] = []
if let crashAt = options["--crash-at"].flatMap(Int.init) {
    let starts = (try? String(contentsOfFile: trapFile, encoding: .utf8)).flatMap { Int($0) } ?? 0
    if starts < (options["--crash-times"].flatMap(Int.init) ?? 1) {
        try String(starts + 1).write(toFile: trapFile, atomically: true, encoding: .utf8)
        faultInjection.append(["operator": "count", "inject": "crash_process", "at_records": [.int(crashAt)]])
    }
}

let env = try LocalEnvironment("checkpointed_word_count", config: [
    "fault_injection": .array(faultInjection),
    "job_id": .string(jobID),
    "work_dir": .string(stateDirectory + "/jobs"),
    "batch_size": 64,
    "fault_tolerance": [
        "strategy": "checkpoint",
        "checkpoint_interval": .double(interval),
        "checkpoint_dir": .string(stateDirectory + "/checkpoints"),
    ],
])

env.fromSource(FileSource(path: input))
    .flatMap { line in line.split(separator: " ").map(String.init) }
    .map { word -> String in
        // Optional busy work per word, so a test can kill the process mid-stream.
        var hash = 0
        for step in 0..<work { hash = hash &* 31 &+ step }
        return hash == -1 ? "" : word
    }
    .keyBy { $0 }
    .mapWithState(initial: 0) { (count: inout Int, word: String) in
        count += 1
        if count == trapAt { trapIfDue() }
        return "\(word) \(count)"
    }
    .named("count")
    .sink(FileSink(path: output))
    .named("output")

// Report each completed checkpoint on standard output, so a supervisor (or a test) can follow.
let events = env.events()
let reporter = Task {
    for await event in events where [.checkpointComplete, .recoveryStart, .recoveryComplete].contains(event.kind) {
        let line: String
        switch event.kind {
        case .checkpointComplete: line = "checkpoint \(event.attempt ?? 0)\n"
        case .recoveryStart: line = "resuming: \(event.message)\n"
        default: line = "recovered: \(event.message)\n"
        }
        FileHandle.standardOutput.write(Data(line.utf8))
    }
}
let result: JobResult
do {
    result = try await env.submit()
} catch {
    // A job owned by another process, a changed pipeline, a failed job: say so, no trap, and
    // exit with a status that tells a supervisor whether a restart can help (78: it cannot).
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(ExitStatus.for(error))
}
reporter.cancel()
print("done: \(result.operators.last?.recordsIn ?? 0) words in this run, \(result.checkpoints.count) checkpoints")
