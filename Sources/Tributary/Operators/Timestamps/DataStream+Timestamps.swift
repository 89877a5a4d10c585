extension DataStream {
    /// Gives the stream event time: `timestamp` reads each record's event time (for example
    /// milliseconds since 1970 as a `Duration`), and `watermarks` says how the watermark
    /// follows it. Downstream, event-time timers (``KeyedTimers/register(at:_:)``) fire once
    /// the watermark passes them instead of only at the end of the input.
    ///
    /// The watermark is the largest event time seen minus the strategy's out-of-orderness (and
    /// one nanosecond, so a record exactly that far behind is still on time). It
    /// follows each batch that advanced it, in order with the records, goes to every instance
    /// downstream (also across `keyBy`), and an operator with several inputs or instances
    /// before it takes the minimum over them. An input idle for the strategy's `idleTimeout`
    /// stops holding it back; idleness is noticed where the source reads (this operator in the
    /// source's instance: directly after the source, with only operators fused into it between),
    /// elsewhere the timeout has no effect. Watermarks from upstream of this operator stop here: it makes
    /// its own. The largest event time seen is part of checkpoints.
    ///
    /// - Parameters:
    ///   - timestamp: the record's event time; called once per record.
    ///   - watermarks: ``WatermarkStrategy/boundedOutOfOrderness(_:idleTimeout:)`` or
    ///     ``WatermarkStrategy/monotonous(idleTimeout:)``. A negative delay or a timeout that is
    ///     not positive makes `submit()` throw a ``PipelineError``.
    @inlinable
    public func withTimestamps(
        _ timestamp: @escaping @Sendable (Element) -> Duration, watermarks: WatermarkStrategy
    ) -> DataStream<Element> {
        if let problem = watermarks.problem {
            environment.recordProblem(PipelineError(code: .invalidArgument, message: "withTimestamps(watermarks: \(watermarks)): \(problem)"))
        }
        let node = TransformNode<Element, Element>(label: "timestamps", input: nodeID, makeParts: { input, output, context in
            let generator = WatermarkGenerator(strategy: watermarks, processingTime: context.processingTime)
            let body: Step.SyncBody = { start in
                withBatchFrame(input, output, from: start) { records, results in
                    var latest: Duration?
                    var index = start
                    while index < records.count {
                        let time = timestamp(records[index])
                        if latest.map({ time > $0 }) ?? true { latest = time }
                        index += 1
                    }
                    results.append(contentsOf: records[start...])
                    generator.observe(latest)
                    return nil
                }
            }
            return StepParts(
                body: .sync(body), snapshot: { _ in try generator.snapshot() }, restore: { parts, _, _ in try generator.restore(parts) },
                watermarkGenerator: generator)
        })
        return DataStream(environment: environment, nodeID: environment.addNode(node))
    }
}
