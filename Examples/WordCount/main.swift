import Foundation
import Tributary

// Counts words in a text file and writes "word count" lines, one per word, with the final
// count of each word.
//
//   swift run WordCount <input.txt> <output.txt>
// Without arguments it writes a small sample text to a temporary folder and counts that.

let arguments = CommandLine.arguments.dropFirst()
let input: String
let output: String
if arguments.count == 2, let first = arguments.first, let last = arguments.last {
    (input, output) = (first, last)
} else if arguments.isEmpty {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tributary-wordcount")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    input = folder.appendingPathComponent("input.txt").path
    output = folder.appendingPathComponent("counts.txt").path
    let sample = """
        the quick brown fox jumps over the lazy dog
        the dog sleeps and the fox runs
        a fox is quick and a dog is lazy
        """
    try sample.write(toFile: input, atomically: true, encoding: .utf8)
} else {
    FileHandle.standardError.write(Data("usage: WordCount [<input.txt> <output.txt>]\n".utf8))
    exit(ExitStatus.usage)
}

let env = try LocalEnvironment("word_count")
let latest = CollectSink<(String, Int)>()
env.fromSource(FileSource(path: input))
    .flatMap { line in line.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map { $0.lowercased() } }
    .keyBy { $0 }
    .mapWithState(initial: 0) { (count: inout Int, word: String) in
        count += 1
        return (word, count)
    }
    .sink(latest)

let result = try await env.submit()
var finalCounts: [String: Int] = [:]
for (word, count) in latest.values { finalCounts[word] = count }
let lines = finalCounts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.key) \($0.value)" }
try (lines.joined(separator: "\n") + "\n").write(toFile: output, atomically: true, encoding: .utf8)
print("counted \(result[operator: "flatMap-1"]?.recordsOut ?? 0) words (\(finalCounts.count) distinct) from \(input) into \(output)")
for line in lines.prefix(5) { print("  \(line)") }
