// swift-tools-version:6.0
import PackageDescription

// The library depends on the toolchain alone (Foundation, Dispatch, Synchronization).
let package = Package(
    name: "Tributary",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Tributary", targets: ["Tributary"]),
        .library(name: "TributaryTesting", targets: ["TributaryTesting"]),
        .executable(name: "tributary", targets: ["TributaryCLI"]),
        .executable(name: "tributary-bench", targets: ["TributaryBench"]),
    ],
    targets: [
        .target(name: "Tributary"),
        .target(name: "TributaryTesting", dependencies: ["Tributary"]),
        .executableTarget(name: "TributaryCLI", dependencies: ["Tributary", "TributaryTesting", "Nexmark"], path: "Sources/tributary"),
        // The Nexmark benchmark's events, reader, generator and queries, written with the public API.
        .target(name: "Nexmark", dependencies: ["Tributary"], path: "Examples/Nexmark", exclude: ["README.md"]),
        .executableTarget(name: "TributaryBench", dependencies: ["Tributary", "Nexmark"], path: "Benchmarks/TributaryBench"),
        .executableTarget(name: "WordCount", dependencies: ["Tributary"], path: "Examples/WordCount", exclude: ["README.md"]),
        .executableTarget(name: "CustomStrategy", dependencies: ["Tributary"], path: "Examples/CustomStrategy", exclude: ["README.md"]),
        .executableTarget(
            name: "CheckpointedWordCount", dependencies: ["Tributary"], path: "Examples/CheckpointedWordCount", exclude: ["README.md"]),
        .executableTarget(name: "FlakyService", dependencies: ["Tributary"], path: "Examples/FlakyService", exclude: ["README.md"]),
        .executableTarget(name: "DynamicFailover", dependencies: ["Tributary"], path: "Examples/DynamicFailover", exclude: ["README.md"]),
        .executableTarget(name: "ReplicaTakeover", dependencies: ["Tributary"], path: "Examples/ReplicaTakeover", exclude: ["README.md"]),
        .executableTarget(name: "FanOutUnion", dependencies: ["Tributary"], path: "Examples/FanOutUnion", exclude: ["README.md"]),
        // The kill and watchdog tests run CheckpointedWordCount and tributary as child processes:
        // depending on them builds them.
        .testTarget(
            name: "TributaryTests", dependencies: ["Tributary", "TributaryTesting", "CheckpointedWordCount", "TributaryCLI", "Nexmark"],
            exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
