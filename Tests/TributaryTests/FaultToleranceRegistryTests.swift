import Foundation
import Testing
@testable import Tributary
import TributaryTesting

/// Skips every failing record after `retries` retries; registered under a name for the tests.
struct SkipAfterRetries: FaultHandler {
    let retries: Int
    func handle(_ failure: FailureInfo) async -> FaultHandlerDecision {
        let sameRecord = failure.history.filter { $0.recordIndex == failure.failure.recordIndex && $0.operatorName == failure.operatorName }.count
        return sameRecord <= retries ? .restart(after: .zero) : .skip
    }
}

@Suite struct FaultToleranceRegistryTests {
    init() throws {
        try FaultToleranceRegistry.register("skip_after_retries") { options in
            guard case .int(let retries)? = options["retries"], retries >= 0 else {
                throw ConfigurationError(code: .wrongType, keyPath: "fault_tolerance.retries", given: options["retries"]?.description, allowed: "an integer of at least 0")
            }
            return SkipAfterRetries(retries: retries)
        }
    }

    /// A built-in name cannot be registered: configurations naming it keep meaning the built-in.
    @Test func aBuiltInNameCannotBeRegistered() {
        for name in ["checkpoint", "restart", "none", ""] {
            let error = #expect(throws: ConfigurationError.self) { try FaultToleranceRegistry.register(name) { _ in SkipAfterRetries(retries: 0) } }
            #expect(error?.allowed.contains("other than the built-in strategies") == true)
        }
        #expect(!FaultToleranceRegistry.registeredNames.contains("restart"))
    }

    @Test func aRegisteredStrategyIsSelectedFromConfigAndGetsItsKeys() async throws {
        let directory = try TemporaryDirectory()
        let env = try LocalEnvironment("custom", config: [
            "work_dir": .string(directory.path("work")),
            "fault_tolerance": ["strategy": "skip_after_retries", "retries": 2],
        ])
        #expect(env.configuration.faultTolerance.strategy == .custom("skip_after_retries"))
        #expect(env.configuration.faultTolerance.customOptions == ["retries": 2])
        let failures = FailureInjector(failOn: [3], times: .max)
        let transient = FailureInjector(failOn: [6], times: 1)
        let sink = CollectSink<Int>()
        env.fromCollection(Array(0..<10)).map { value -> Int in
            try failures.check(value)
            try transient.check(value)
            return value
        }.sink(sink)
        let result = try await env.submit()
        #expect(sink.values == [0, 1, 2, 4, 5, 6, 7, 8, 9])
        #expect(result.deadLetters.map(\.record) == ["3"])
        #expect(result.restarts.count == 3, "two retries of 3, one of 6")
    }

    @Test func aRegisteredStrategysFactoryValidatesItsKeys() {
        let error = #expect(throws: ConfigurationError.self) {
            try LocalEnvironment("custom", config: ["fault_tolerance": ["strategy": "skip_after_retries", "retries": "many"]])
        }
        #expect(error?.keyPath == "fault_tolerance.retries")
    }

    @Test func unregisteredNamesAreRejectedListingTheRegisteredOnes() {
        let error = #expect(throws: ConfigurationError.self) {
            try EnvironmentConfiguration(["fault_tolerance": ["strategy": "skip_after_retrie"]])
        }
        #expect(error?.code == .unknownValue)
        #expect(error?.allowed.contains("\"skip_after_retries\"") == true)
        #expect(error?.suggestion == "skip_after_retries")
    }
}
