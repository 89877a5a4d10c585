import Foundation

/// The input the child-process tests give `CheckpointedWordCount`: `lines` lines of four words
/// (37 distinct), and the output an uninterrupted run writes ("word count-so-far" per word).
enum WordCountInput {
    /// Writes `in.txt` into `folder` and returns the expected output.
    static func write(lines count: Int, into folder: URL) throws -> String {
        var lines: [String] = []
        var counts: [String: Int] = [:]
        var expected = ""
        for index in 0..<count {
            let words = (0..<4).map { "w\((index * 4 + $0) % 37)" }
            lines.append(words.joined(separator: " "))
            for word in words {
                counts[word, default: 0] += 1
                expected += "\(word) \(counts[word, default: 0])\n"
            }
        }
        try (lines.joined(separator: "\n") + "\n").write(to: folder.appendingPathComponent("in.txt"), atomically: true, encoding: .utf8)
        return expected
    }
}
