import Foundation
import Testing
@testable import Tributary

@Suite struct ConfigurationTests {
    @Test func absentFaultToleranceMeansRestartWithFixedTenthOfASecond() throws {
        let configuration = try EnvironmentConfiguration([:])
        #expect(configuration.faultTolerance.strategy == .restart)
        #expect(configuration.faultTolerance.restartStrategy == .fixed(delay: .milliseconds(100), maxAttempts: 3))
        #expect(configuration.workDirectory == ".tributary")
        #expect(configuration.jobID == nil)
        #expect(configuration.batchSize == 1024)
    }

    @Test func emptyFaultToleranceObjectTakesTheTableDefaults() throws {
        let ft = try EnvironmentConfiguration(["fault_tolerance": [:]]).faultTolerance
        #expect(ft.strategy == .restart)
        #expect(ft.checkpointInterval == .seconds(60))
        #expect(ft.maxRecoveryAttempts == 3)
        #expect(ft.checkpointDirectory == ".checkpoints")
        #expect(ft.retainedCheckpoints == 3)
        #expect(ft.checkpointTimeout == .seconds(600))
        #expect(ft.restartStrategy == .fixed(delay: .seconds(5), maxAttempts: 3))
        #expect(ft.seed == nil)
        #expect(ft.operatorTimeout == nil)
    }

    @Test func everyKeyIsParsed() throws {
        let configuration = try EnvironmentConfiguration([
            "job_id": "nightly-1",
            "work_dir": "/tmp/work",
            "batch_size": 256,
            "batch_linger": 0.002,
            "channel_capacity": 8,
            "fault_tolerance": [
                "strategy": "checkpoint",
                "checkpoint_interval": 1,
                "max_recovery_attempts": 5,
                "checkpoint_dir": "/tmp/chk",
                "retained_checkpoints": 2,
                "checkpoint_timeout": 30.5,
                "restart_strategy": "exponential",
                "initial_delay": 0.5,
                "max_delay": 8.0,
                "multiplier": 3.0,
                "max_attempts": 7,
                "jitter": 0.25,
                "reset_after": 100,
                "seed": 42,
                "operator_timeout": 2.5,
            ],
        ])
        #expect(configuration.jobID == "nightly-1")
        #expect(configuration.workDirectory == "/tmp/work")
        #expect(configuration.batchSize == 256)
        #expect(configuration.batchLinger == .seconds(0.002))
        #expect(configuration.channelCapacity == 8)
        let ft = configuration.faultTolerance
        #expect(ft.strategy == .checkpoint)
        #expect(ft.checkpointInterval == .seconds(1))
        #expect(ft.maxRecoveryAttempts == 5)
        #expect(ft.checkpointDirectory == "/tmp/chk")
        #expect(ft.retainedCheckpoints == 2)
        #expect(ft.checkpointTimeout == .seconds(30.5))
        #expect(ft.restartStrategy == .exponential(initialDelay: .seconds(0.5), maxDelay: .seconds(8), multiplier: 3, maxAttempts: 7, jitter: 0.25, resetAfter: .seconds(100)))
        #expect(ft.seed == 42)
        #expect(ft.operatorTimeout == .seconds(2.5))
    }

    @Test func exponentialResetAfterDefaultsToTwiceMaxDelay() throws {
        let ft = try EnvironmentConfiguration(["fault_tolerance": ["restart_strategy": "exponential", "max_delay": 10]]).faultTolerance
        #expect(ft.restartStrategy == .exponential(initialDelay: .seconds(1), maxDelay: .seconds(10), multiplier: 2, maxAttempts: 5, jitter: 0, resetAfter: .seconds(20)))
    }

    @Test func failureRateKeysAndDefaults() throws {
        let defaults = try EnvironmentConfiguration(["fault_tolerance": ["restart_strategy": "failure_rate"]]).faultTolerance
        #expect(defaults.restartStrategy == .failureRate(maxFailures: 3, interval: .seconds(60), delay: .seconds(5)))
        let given = try EnvironmentConfiguration([
            "fault_tolerance": ["restart_strategy": "failure_rate", "max_failures_per_interval": 10, "interval_seconds": 5, "delay": 0],
        ]).faultTolerance
        #expect(given.restartStrategy == .failureRate(maxFailures: 10, interval: .seconds(5), delay: .zero))
    }

    @Test func unknownKeySuggestsTheNearestValidOne() {
        let error = #expect(throws: ConfigurationError.self) {
            try EnvironmentConfiguration(["fault_tolerance": ["checkpoint_intervl": 1.0]])
        }
        #expect(error?.code == .unknownKey)
        #expect(error?.keyPath == "fault_tolerance.checkpoint_intervl")
        #expect(error?.suggestion == "checkpoint_interval")
        #expect(error?.description.contains("did you mean 'checkpoint_interval'?") == true)
    }

    @Test func unknownTopLevelKeySuggestsTheNearestValidOne() {
        let error = #expect(throws: ConfigurationError.self) { try EnvironmentConfiguration(["fault_tolerence": [:]]) }
        #expect(error?.keyPath == "fault_tolerence")
        #expect(error?.suggestion == "fault_tolerance")
    }

    @Test func unknownKeyFarFromEveryValidOneHasNoSuggestion() {
        let error = #expect(throws: ConfigurationError.self) { try EnvironmentConfiguration(["colour": "blue"]) }
        #expect(error?.code == .unknownKey)
        #expect(error?.suggestion == nil)
    }

    @Test func wrongTypeNamesTheKeyTheValueAndTheExpectedType() {
        let error = #expect(throws: ConfigurationError.self) {
            try EnvironmentConfiguration(["fault_tolerance": ["checkpoint_interval": "fast"]])
        }
        #expect(error?.code == .wrongType)
        #expect(error?.keyPath == "fault_tolerance.checkpoint_interval")
        #expect(error?.given == "\"fast\" (a string)")
        #expect(error?.allowed.contains("seconds") == true)
    }

    @Test func faultToleranceMustBeAnObject() {
        let error = #expect(throws: ConfigurationError.self) { try EnvironmentConfiguration(["fault_tolerance": "checkpoint"]) }
        #expect(error?.code == .wrongType)
        #expect(error?.keyPath == "fault_tolerance")
    }

    @Test(arguments: [
        ("checkpoint_interval", ConfigValue.int(0)),
        ("checkpoint_interval", ConfigValue.double(-1)),
        ("max_recovery_attempts", ConfigValue.int(-1)),
        ("retained_checkpoints", ConfigValue.int(0)),
        ("checkpoint_timeout", ConfigValue.int(0)),
        ("delay", ConfigValue.double(-0.5)),
        ("max_attempts", ConfigValue.int(-2)),
        ("seed", ConfigValue.int(-1)),
        ("operator_timeout", ConfigValue.int(0)),
    ])
    func outOfRangeValuesAreRejected(key: String, value: ConfigValue) {
        let error = #expect(throws: ConfigurationError.self) {
            try EnvironmentConfiguration(["fault_tolerance": .object([key: value])])
        }
        #expect(error?.code == .outOfRange)
        #expect(error?.keyPath == "fault_tolerance.\(key)")
        #expect(error?.given == value.description)
    }

    @Test func jitterMustBeBetweenZeroAndOne() {
        let error = #expect(throws: ConfigurationError.self) {
            try EnvironmentConfiguration(["fault_tolerance": ["restart_strategy": "exponential", "jitter": 1.5]])
        }
        #expect(error?.code == .outOfRange)
        #expect(error?.keyPath == "fault_tolerance.jitter")
        #expect(error?.allowed == "a number from 0.0 to 1.0")
    }

    @Test func maxDelayBelowInitialDelayIsRejected() {
        let error = #expect(throws: ConfigurationError.self) {
            try EnvironmentConfiguration(["fault_tolerance": ["restart_strategy": "exponential", "initial_delay": 5, "max_delay": 1]])
        }
        #expect(error?.code == .outOfRange)
        #expect(error?.keyPath == "fault_tolerance.max_delay")
    }

    @Test(arguments: [("batch_size", ConfigValue.int(0)), ("channel_capacity", ConfigValue.int(5000)), ("batch_linger", ConfigValue.double(-1))])
    func runtimeKeysAreRangeChecked(key: String, value: ConfigValue) {
        let error = #expect(throws: ConfigurationError.self) { try EnvironmentConfiguration([key: value]) }
        #expect(error?.code == .outOfRange)
        #expect(error?.keyPath == key)
    }

    @Test func unknownStrategyListsTheAllowedOnesAndSuggests() {
        let error = #expect(throws: ConfigurationError.self) {
            try EnvironmentConfiguration(["fault_tolerance": ["strategy": "checkpoints"]])
        }
        #expect(error?.code == .unknownValue)
        #expect(error?.keyPath == "fault_tolerance.strategy")
        #expect(error?.given == "\"checkpoints\"")
        // Built-in names first; strategies registered by other tests may follow.
        #expect(error?.allowed.hasPrefix("\"checkpoint\", \"restart\", \"none\"") == true)
        #expect(error?.suggestion == "checkpoint")
    }

    @Test func unknownRestartStrategyIsRejected() {
        let error = #expect(throws: ConfigurationError.self) {
            try EnvironmentConfiguration(["fault_tolerance": ["restart_strategy": "exponentail"]])
        }
        #expect(error?.code == .unknownValue)
        #expect(error?.keyPath == "fault_tolerance.restart_strategy")
        #expect(error?.suggestion == "exponential")
    }

    @Test func keysOfAnotherRestartStrategyAreRejected() {
        let error = #expect(throws: ConfigurationError.self) {
            try EnvironmentConfiguration(["fault_tolerance": ["restart_strategy": "fixed", "initial_delay": 1]])
        }
        #expect(error?.code == .conflictingKeys)
        #expect(error?.keyPath == "fault_tolerance.initial_delay")
        #expect(error?.allowed.contains("\"exponential\"") == true)
    }

    @Test func jobIDMustBeUsableAsAFolderName() {
        let error = #expect(throws: ConfigurationError.self) { try EnvironmentConfiguration(["job_id": "../etc"]) }
        #expect(error?.code == .outOfRange)
        #expect(error?.keyPath == "job_id")
    }

    @Test func localEnvironmentValidatesItsConfiguration() {
        #expect(throws: ConfigurationError.self) { try LocalEnvironment("job", config: ["fault_tolerance": ["strategy": 3]]) }
    }

    @Test func jsonFileGivesTheSameConfigurationAsTheDictionary() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("config.json", """
            {"job_id": "j1", "fault_tolerance": {"strategy": "checkpoint", "checkpoint_interval": 2, "restart_strategy": "failure_rate", "delay": 0.5}}
            """)
        let fromFile = try EnvironmentConfiguration(contentsOf: URL(fileURLWithPath: path))
        let fromDictionary = try EnvironmentConfiguration([
            "job_id": "j1",
            "fault_tolerance": ["strategy": "checkpoint", "checkpoint_interval": 2, "restart_strategy": "failure_rate", "delay": 0.5],
        ])
        #expect(fromFile == fromDictionary)
    }

    @Test func jsonFileIsValidatedLikeTheDictionary() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("config.json", #"{"fault_tolerance": {"checkpoint_intervl": 1}}"#)
        let error = #expect(throws: ConfigurationError.self) { try EnvironmentConfiguration(contentsOf: URL(fileURLWithPath: path)) }
        #expect(error?.suggestion == "checkpoint_interval")
    }

    @Test func unreadableOrMalformedFilesAreReportedAsSuch() throws {
        let directory = try TemporaryDirectory()
        let missing = #expect(throws: ConfigurationError.self) {
            try EnvironmentConfiguration(contentsOf: directory.url.appendingPathComponent("absent.json"))
        }
        #expect(missing?.code == .unreadableFile)
        let malformed = try directory.write("bad.json", "{ not json")
        let error = #expect(throws: ConfigurationError.self) { try EnvironmentConfiguration(contentsOf: URL(fileURLWithPath: malformed)) }
        #expect(error?.code == .unreadableFile)
        let array = try directory.write("array.json", "[1, 2]")
        #expect(throws: ConfigurationError.self) { try EnvironmentConfiguration(contentsOf: URL(fileURLWithPath: array)) }
    }

    @Test func configValueLiteralsAndDescriptions() {
        let value: ConfigValue = ["a": [1, 2.5, true, "x"]]
        #expect(value == .object(["a": .array([.int(1), .double(2.5), .bool(true), .string("x")])]))
        #expect(value.description == #"{"a": [1, 2.5, true, "x"]}"#)
    }

    @Test func editDistanceCountsTranspositionsAsOneEdit() {
        #expect(NearestName.editDistance("checkpoint_intervl", "checkpoint_interval") == 1)
        #expect(NearestName.editDistance("stratgey", "strategy") == 1)
        #expect(NearestName.editDistance("", "abc") == 3)
    }
}
