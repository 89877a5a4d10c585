extension EnvironmentConfiguration {
    /// The configuration as the dictionary form would write it, every key included; parsing it
    /// again gives an equal configuration. Used for `job_summary.json`.
    public var dictionaryRepresentation: [String: ConfigValue] {
        var top: [String: ConfigValue] = [
            "work_dir": .string(workDirectory),
            "batch_size": .int(batchSize),
            "batch_linger": .double(batchLinger.seconds),
            "channel_capacity": .int(channelCapacity),
        ]
        if let jobID { top["job_id"] = .string(jobID) }
        if restartCompleted { top["restart_completed"] = true }
        if !splitChains { top["split_chains"] = false }
        if !printWarnings { top["print_warnings"] = false }
        if metricsInterval != .seconds(5) { top["metrics_interval"] = .double(metricsInterval.seconds) }
        if health != HealthConfiguration() {
            var checks: [String: ConfigValue] = ["action": .string(health.action.rawValue)]
            if let value = health.maxMemoryPercent { checks["max_memory_percent"] = .double(value) }
            if let value = health.minDiskFreeMB { checks["min_disk_free_mb"] = .double(value) }
            if let value = health.maxQueueFillSeconds { checks["max_queue_fill_seconds"] = .double(value) }
            if let value = health.maxCPUPercent { checks["max_cpu_percent"] = .double(value) }
            top["health"] = .object(checks)
        }
        if !retention.keepsEverything || retention.policy != .keepAll {
            var kept: [String: ConfigValue] = ["policy": .string(retention.policy.rawValue)]
            if let days = retention.maxDays { kept["max_days"] = .double(days) }
            if retention.cleanupOnSuccess { kept["cleanup_on_success"] = true }
            top["retention"] = .object(kept)
        }
        let ft = faultTolerance
        var fault: [String: ConfigValue] = [
            "strategy": .string(ft.strategy.name),
            "checkpoint_interval": .double(ft.checkpointInterval.seconds),
            "max_recovery_attempts": .int(ft.maxRecoveryAttempts),
            "checkpoint_dir": .string(ft.checkpointDirectory),
            "retained_checkpoints": .int(ft.retainedCheckpoints),
            "checkpoint_timeout": .double(ft.checkpointTimeout.seconds),
        ]
        if let seed = ft.seed { fault["seed"] = .int(Int(truncatingIfNeeded: seed)) }
        if let timeout = ft.operatorTimeout { fault["operator_timeout"] = .double(timeout.seconds) }
        if ft.allowNonRestoredState { fault["allow_non_restored_state"] = true }
        if ft.checkpointMode != .periodic { fault["checkpoint_mode"] = .string(ft.checkpointMode.rawValue) }
        if let every = ft.checkpointEveryRecords { fault["checkpoint_every_records"] = .int(every) }
        if ft.verifyWrites { fault["verify_writes"] = true }
        switch ft.restartStrategy.kind {
        case .fixed(let delay, let maxAttempts):
            fault["restart_strategy"] = "fixed"
            fault["delay"] = .double(delay.seconds)
            fault["max_attempts"] = .int(maxAttempts)
        case .exponential(let initialDelay, let maxDelay, let multiplier, let maxAttempts, let jitter, let resetAfter):
            fault["restart_strategy"] = "exponential"
            fault["initial_delay"] = .double(initialDelay.seconds)
            fault["max_delay"] = .double(maxDelay.seconds)
            fault["multiplier"] = .double(multiplier)
            fault["max_attempts"] = .int(maxAttempts)
            fault["jitter"] = .double(jitter)
            fault["reset_after"] = .double(resetAfter.seconds)
        case .failureRate(let maxFailures, let interval, let delay):
            fault["restart_strategy"] = "failure_rate"
            fault["max_failures_per_interval"] = .int(maxFailures)
            fault["interval_seconds"] = .double(interval.seconds)
            fault["delay"] = .double(delay.seconds)
        }
        for (key, value) in ft.customOptions { fault[key] = value }
        top["fault_tolerance"] = .object(fault)
        if !faultInjections.isEmpty {
            top["fault_injection"] = .array(faultInjections.map { rule in
                var fields: [String: ConfigValue] = ["operator": .string(rule.operatorName), "inject": .string(rule.kind.name)]
                if let duration = rule.duration { fields["duration"] = .double(duration.seconds) }
                if let times = rule.times { fields["times"] = .int(times) }
                if let instance = rule.instance { fields["instance"] = .int(instance) }
                switch rule.trigger {
                case .everyRecords(let every): fields["every_records"] = .int(every)
                case .atRecords(let positions): fields["at_records"] = .array(positions.sorted().map { .int($0) })
                case .probability(let probability, let seed):
                    fields["probability"] = .double(probability)
                    fields["seed"] = .int(Int(truncatingIfNeeded: seed))
                }
                return .object(fields)
            })
        }
        return top
    }
}
