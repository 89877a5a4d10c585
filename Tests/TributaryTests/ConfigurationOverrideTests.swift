import Foundation
import Testing
@testable import Tributary

/// Environment variables and command-line arguments override the dictionary, in that order,
/// with the dictionary's validation; an error about a key they set says which one set it.
@Suite struct ConfigurationOverrideTests {
    @Test func argumentsOverrideVariablesWhichOverrideTheDictionary() throws {
        let dictionary: [String: ConfigValue] = ["batch_size": 100, "fault_tolerance": ["strategy": "checkpoint", "checkpoint_interval": 60]]
        let variables = [
            "TRIBUTARY_BATCH_SIZE": "200", "TRIBUTARY_FAULT_TOLERANCE__CHECKPOINT_INTERVAL": "5", "PATH": "/usr/bin", "HOME": "/root",
        ]
        let fromVariables = try EnvironmentConfiguration(dictionary, environment: variables, arguments: [])
        #expect(fromVariables.batchSize == 200)
        #expect(fromVariables.faultTolerance.checkpointInterval == .seconds(5))
        #expect(fromVariables.faultTolerance.strategy == .checkpoint, "the rest of the object stays")

        let fromArguments = try EnvironmentConfiguration(
            dictionary, environment: variables,
            arguments: ["--batch_size=300", "--fault-tolerance.checkpoint-interval", "0.5", "--job_id", "007", "--restart_completed"])
        #expect(fromArguments.batchSize == 300)
        #expect(fromArguments.faultTolerance.checkpointInterval == .milliseconds(500))
        #expect(fromArguments.jobID == "007", "a key that takes a string takes the text as written")
        #expect(fromArguments.restartCompleted, "a key alone is true")

        let created = try EnvironmentConfiguration([:], environment: [:], arguments: ["--fault_tolerance.strategy=checkpoint"])
        #expect(created.faultTolerance.strategy == .checkpoint)
        #expect(created.faultTolerance.checkpointInterval == .seconds(60), "a created object has the table defaults")
    }

    @Test func anErrorAboutAnOverriddenKeySaysWhatSetIt() throws {
        let typo = #expect(throws: ConfigurationError.self) {
            try EnvironmentConfiguration(["fault_tolerance": ["strategy": "checkpoint"]], environment: [:], arguments: ["--fault_tolerance.checkpoint_intervl=5"])
        }
        #expect(typo?.code == .unknownKey)
        #expect(typo?.suggestion == "checkpoint_interval")
        #expect(typo?.origin == "the argument '--fault_tolerance.checkpoint_intervl=5'")
        #expect(typo?.description.contains("did you mean 'checkpoint_interval'?") == true)
        #expect(typo?.description.hasSuffix("set by the argument '--fault_tolerance.checkpoint_intervl=5'") == true)

        let variable = #expect(throws: ConfigurationError.self) {
            try EnvironmentConfiguration([:], environment: ["TRIBUTARY_BATCH_SIZ": "3"], arguments: [])
        }
        #expect(variable?.keyPath == "batch_siz")
        #expect(variable?.suggestion == "batch_size")
        #expect(variable?.origin == "the environment variable TRIBUTARY_BATCH_SIZ")

        let text = #expect(throws: ConfigurationError.self) { try EnvironmentConfiguration([:], environment: [:], arguments: ["--batch_size", "abc"]) }
        #expect(text?.code == .wrongType)
        #expect(text?.given == "\"abc\" (a string)")

        let range = #expect(throws: ConfigurationError.self) { try EnvironmentConfiguration([:], environment: [:], arguments: ["--batch_size=0"]) }
        #expect(range?.code == .outOfRange)
        #expect(range?.origin == "the argument '--batch_size=0'")

        let positional = #expect(throws: ConfigurationError.self) { try EnvironmentConfiguration([:], environment: [:], arguments: ["input.txt"]) }
        #expect(positional?.code == .badArgument)
        #expect(positional?.description.contains("'input.txt' is not a configuration argument") == true)
        let empty = #expect(throws: ConfigurationError.self) { try EnvironmentConfiguration([:], environment: [:], arguments: ["--fault_tolerance..delay=1"]) }
        #expect(empty?.code == .badArgument)

        let into = #expect(throws: ConfigurationError.self) {
            try EnvironmentConfiguration(["work_dir": "/tmp/w"], environment: [:], arguments: ["--work_dir.path=/x"])
        }
        #expect(into?.code == .wrongType)
        #expect(into?.keyPath == "work_dir")
        #expect(into?.origin == "the argument '--work_dir.path=/x'")
    }

    @Test func aLocalEnvironmentTakesArgumentsAndVariables() async throws {
        let directory = try TemporaryDirectory()
        let env = try LocalEnvironment(
            "overridden", config: ["work_dir": .string(directory.path("work"))],
            arguments: ["--job_id", "nightly-7", "--fault_tolerance.delay=0"], environment: ["TRIBUTARY_BATCH_SIZE": "16"])
        #expect(env.jobID == "nightly-7")
        #expect(env.configuration.batchSize == 16)
        let sink = CollectSink<Int>()
        env.fromCollection(Array(0..<100)).map { $0 * 2 }.sink(sink)
        let result = try await env.submit()
        #expect(result.status == .completed)
        #expect(sink.values == (0..<100).map { $0 * 2 })
        #expect(FileManager.default.fileExists(atPath: directory.path("work/nightly-7/events.jsonl")))
    }
}
