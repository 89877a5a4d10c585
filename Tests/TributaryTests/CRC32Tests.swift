import Testing
@testable import Tributary

/// The checksum of checkpoint files and of `FileSink`'s committed epochs: the standard CRC-32
/// (IEEE), the same computed eight bytes at a time as byte by byte, whole or in pieces.
@Suite struct CRC32Tests {
    /// The textbook definition, one bit at a time: what the table-driven code must agree with.
    static func bitwise(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
        }
        return ~crc
    }

    @Test func knownValues() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([UInt8]()) == 0)
        #expect(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)) == 0x414F_A339)
    }

    /// Every length from 0 to 70 (the 8-byte loop and its tail), at every alignment.
    @Test func agreesWithTheBitwiseDefinitionAtEveryLengthAndAlignment() {
        var generator = SplitMix(seed: 42)
        let data = (0..<80).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        for start in 0..<8 {
            for length in 0...(data.count - start - 8) {
                let slice = Array(data[start..<(start + length)])
                let fast = data.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[start..<(start + length)])) }
                #expect(fast == Self.bitwise(slice), "start \(start), length \(length)")
            }
        }
    }

    @Test func aChecksumInPiecesEqualsTheWholeOne() {
        var generator = SplitMix(seed: 7)
        let data = (0..<1_000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        for cut in [0, 1, 7, 8, 9, 500, 999, 1_000] {
            let first = CRC32.checksum(Array(data[..<cut]))
            #expect(CRC32.checksum(Array(data[cut...]), initial: first) == CRC32.checksum(data), "cut at \(cut)")
        }
    }

    struct SplitMix {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
