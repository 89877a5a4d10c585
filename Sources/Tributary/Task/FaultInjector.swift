import Foundation
import Synchronization

/// Decides, for one operator instance, which records get an injected fault. Its memory is
/// shared by every attempt of a job run, so each (rule, record) fires at most once per process
/// and `times` counts across restores.
final class FaultInjectionState: Sendable {
    private struct RuleState {
        var fired: Set<Int> = []
        var count = 0
        var random: SeededRandom
    }

    let rules: [FaultInjection]
    private let state: Mutex<[String: RuleState]>

    init(_ rules: [FaultInjection]) {
        self.rules = rules
        state = Mutex([:])
    }

    struct Hit {
        /// Offset of the record in the records asked about.
        let offset: Int
        let ordinal: Int
        let rule: FaultInjection
        /// The rule's place in `rules`: two equal rules are two faults, each marked on its own.
        let ruleIndex: Int
    }

    /// The first record among `count` records starting at `ordinal` that gets a fault from one of
    /// `operatorName`'s rules (marked fired), or `nil`.
    func firstHit(operatorName: String, instance: Int, ordinal: Int, count: Int) -> Hit? {
        guard count > 0 else { return nil }
        var best: Hit?
        state.withLock { states in
            for (index, rule) in rules.enumerated() where rule.operatorName == operatorName && (rule.instance ?? instance) == instance {
                let key = "\(index)/\(instance)"
                var ruleState = states[key] ?? RuleState(random: SeededRandom(seed: seed(of: rule) &+ UInt64(instance)))
                defer { states[key] = ruleState }
                if let times = rule.times, ruleState.count >= times { continue }
                var candidate: Int?
                switch rule.trigger {
                case .everyRecords(let every):
                    var next = ((ordinal + 1 + every - 1) / every) * every - 1
                    while next < ordinal + count, ruleState.fired.contains(next) { next += every }
                    if next < ordinal + count { candidate = next }
                case .atRecords(let positions):
                    candidate = positions.filter { $0 >= ordinal && $0 < ordinal + count && !ruleState.fired.contains($0) }.min()
                case .probability(let probability, _):
                    for position in ordinal..<(ordinal + count) where !ruleState.fired.contains(position) {
                        if ruleState.random.nextDouble(in: 0...1) < probability {
                            candidate = position
                            break
                        }
                    }
                }
                guard let candidate, candidate < (best?.ordinal ?? .max) else { continue }
                best = Hit(offset: candidate - ordinal, ordinal: candidate, rule: rule, ruleIndex: index)
            }
            if let best {
                states["\(best.ruleIndex)/\(instance)"]?.fired.insert(best.ordinal)
                states["\(best.ruleIndex)/\(instance)"]?.count += 1
            }
        }
        return best
    }

    private func seed(of rule: FaultInjection) -> UInt64 {
        if case .probability(_, let seed) = rule.trigger { return seed }
        return 0
    }
}

/// A step's view of the job's fault injection.
final class StepInjector: Sendable {
    let state: FaultInjectionState
    let operatorName: String
    let instance: Int
    let clock: JobClock

    init(state: FaultInjectionState, operatorName: String, instance: Int, clock: JobClock) {
        self.state = state
        self.operatorName = operatorName
        self.instance = instance
        self.clock = clock
    }
}
