import Foundation
import Tributary

extension TorturePipeline {
    /// Writes the input files of the file sources into `directory` (one number per line).
    public func writeInputs(to directory: URL) throws {
        for source in sources where source.kind == .file {
            let text = (0..<source.count).map { "\($0)\n" }.joined()
            try text.write(to: inputURL(source, in: directory), atomically: true, encoding: .utf8)
        }
    }

    func inputURL(_ source: SourceSpec, in directory: URL) -> URL {
        directory.appendingPathComponent("\(source.name).txt")
    }

    /// Adds the pipeline to `environment`.
    /// - Parameters:
    ///   - inputs: where ``writeInputs(to:)`` wrote the file sources' input.
    ///   - failures: closure faults by stage name (none for a reference run).
    public func build(on environment: LocalEnvironment, inputs: URL, outputs: TortureOutputs, failures: [String: FailureInjector<Int>] = [:]) {
        let streams = sources.map { source -> DataStream<TortureRecord> in
            switch source.kind {
            case .generator:
                return environment.fromSource(GeneratorSource(count: source.count) { source.record($0) }).named(source.name)
            case .collection:
                return environment.fromSource(CollectionSource((0..<source.count).map(source.record))).named(source.name)
            case .file:
                return environment.fromSource(FileSource(path: inputURL(source, in: inputs).path)).named(source.name)
                    .map { line -> TortureRecord in
                        guard let position = Int(line) else { throw TortureError("\(source.name): not a number: '\(line)'") }
                        return source.record(position)
                    }.named("\(source.name)-parse")
            }
        }
        var stream: DataStream<TortureRecord>
        switch streams.count {
        case 1: stream = streams[0]
        case 2: stream = streams[0].union(streams[1])
        default: stream = streams[0].union(streams[1], streams[2])
        }
        for stage in prefix { stream = Self.apply(stage, to: stream, failures: failures[stage.name]) }
        for branch in branches {
            var branchStream = stream
            for stage in branch.stages { branchStream = Self.apply(stage, to: branchStream, failures: failures[stage.name]) }
            for spec in branch.sinks {
                var end: DataStreamSink
                if let sink = outputs.sinks[spec.name] {
                    end = branchStream.sink(sink).named(spec.name)
                } else if let sink = outputs.asyncSinks[spec.name] {
                    end = branchStream.sink(sink).named(spec.name)
                } else {
                    preconditionFailure("no sink '\(spec.name)' in the outputs")
                }
                if let policy = spec.policy { end = end.supervised(policy.supervisionPolicy) }
            }
        }
    }

    static func apply(_ stage: Stage, to stream: DataStream<TortureRecord>, failures: FailureInjector<Int>?) -> DataStream<TortureRecord> {
        var output: DataStream<TortureRecord>
        var parallelism = 1
        switch stage.operation {
        case .map(let multiplier, let offset):
            output = stream.map { record in
                try failures?.check(record.origin)
                var record = record
                record.value = record.value &* multiplier &+ offset
                return record
            }
        case .filter(let modulus, let remainder):
            output = stream.filter { record in
                try failures?.check(record.origin)
                return record.value % modulus != remainder
            }
        case .flatMap(let copies):
            output = stream.flatMap { record in
                try failures?.check(record.origin)
                return (0..<copies).map { TortureRecord(key: record.key, origin: record.origin, value: record.value &* copies &+ $0) }
            }
        case .reduce(let instances):
            parallelism = instances
            output = stream.keyBy { $0.key }.reduce { sum, record in
                try failures?.check(record.origin)
                return TortureRecord(key: sum.key, origin: record.origin, value: sum.value &+ record.value)
            }
        case .mapWithState(let instances):
            parallelism = instances
            output = stream.keyBy { $0.key }.mapWithState(initial: 0) { (count: inout Int, record: TortureRecord) in
                // Changes the state before it throws: a failed call must leave no trace.
                count += 1
                try failures?.check(record.origin)
                var record = record
                record.value = record.value &* 7 &+ count
                return record
            }
        case .counter:
            output = stream.map { TortureCounter(failures: failures) }
        case .process(let instances):
            parallelism = instances
            output = stream.keyBy { $0.key }.process(initial: 0) {
                (context: inout KeyedProcessContext<Int, Int, TortureRecord>, record: TortureRecord) in
                // Changes state, timers and output before it throws: a failed call must leave no trace.
                context.state += 1
                context.timers.register(at: .seconds(record.value % 4))
                if record.value % 5 == 0 { context.timers.delete(at: .seconds(1)) }
                // A timer only this record sets: one lost by a restore shows in the output.
                if record.origin % 7 == 0 { context.timers.register(at: .seconds(100 + record.origin % 1_000_000)) }
                var output = record
                output.value = record.value &* 11 &+ context.state
                context.emit(output)
                try failures?.check(record.origin)
                if context.state % 3 == 0 {
                    output.value &+= 1
                    context.emit(output)
                }
            } onTimer: { context, timer in
                let second = Int(timer.time.components.seconds)
                context.emit(TortureRecord(key: context.key, origin: -1 - second, value: context.state &* 13 &+ second))
            }
        }
        output = output.named(stage.name)
        if parallelism > 1 { output = output.parallelism(parallelism) }
        if let policy = stage.policy { output = output.supervised(policy.supervisionPolicy) }
        return output
    }
}

extension TorturePipeline.Policy {
    var supervisionPolicy: SupervisionPolicy {
        switch self {
        case .restart(let attempts): .restart(.fixed(delay: .zero, maxAttempts: attempts))
        case .escalate: .escalate
        case .restoreCheckpoint: .restoreCheckpoint
        case .stop: .stop
        }
    }
}
