import Foundation

/// Applies a ``RetentionConfiguration`` to a work directory: which job folders and checkpoints
/// it removes, and removing them (see ``RetentionConfiguration`` for the rules).
public enum JobRetention {
    /// One folder a retention policy removes.
    public struct Removal: Sendable, Equatable, CustomStringConvertible {
        public let jobID: String
        /// The folder: a job folder, a job's checkpoint folder, or one checkpoint (`chk-<n>`).
        public let path: String
        /// Why, in words: "completed; policy keep_failed_only".
        public let reason: String
        /// The job's checkpoint folder when the removal is in it: its lock is taken first.
        var checkpointRoot: String?

        init(jobID: String, path: String, reason: String, checkpointRoot: String? = nil) {
            self.jobID = jobID
            self.path = path
            self.reason = reason
            self.checkpointRoot = checkpointRoot
        }

        public static func == (lhs: Removal, rhs: Removal) -> Bool {
            (lhs.jobID, lhs.path, lhs.reason) == (rhs.jobID, rhs.path, rhs.reason)
        }

        public var description: String { "\(path) (\(jobID): \(reason))" }
    }

    /// What `retention` removes from `workDirectory` now. `finished` is the job that is ending
    /// in this process, with its status (its lock is the caller's, and its summary may not say
    /// so yet); every other job that some process runs is left alone.
    public static func plan(
        workDirectory: String, retention: RetentionConfiguration, now: Date = Date(), finished: (jobID: String, status: String)? = nil
    ) -> [Removal] {
        guard !retention.keepsEverything else { return [] }
        var removals: [Removal] = []
        for job in JobFolder.list(workDirectory: workDirectory) {
            let status: String
            if let finished, job.jobID == finished.jobID {
                status = finished.status
            } else {
                switch JobFolder.liveness(jobID: job.jobID, workDirectory: workDirectory) {
                case .running, .unknown: continue
                case .ended(let ended): status = ended
                case .crashed: status = "crashed"
                }
            }
            let folder = URL(fileURLWithPath: workDirectory).appendingPathComponent(job.jobID).path
            let checkpoints = checkpointFolder(of: job)
            let ended = job.jobID == finished?.jobID ? now : (job.endedAt ?? Optional(job.startedAt)).flatMap { try? JobEvent.timestampStyle.parse($0) }
            let old = retention.maxDays.map { days in ended.map { now.timeIntervalSince($0) > days * 86_400 } ?? false } ?? false
            let age = old ? "ended more than \(format(retention.maxDays ?? 0)) days ago" : nil
            if status == JobResult.Status.completed.rawValue {
                let reason: String
                if job.jobID == finished?.jobID, retention.cleanupOnSuccess {
                    reason = "completed; cleanup_on_success"
                } else if retention.policy != .keepAll {
                    reason = "completed; policy \(retention.policy.rawValue)"
                } else if let age {
                    reason = "completed; \(age)"
                } else {
                    continue
                }
                removals.append(Removal(jobID: job.jobID, path: folder, reason: reason))
                if let checkpoints, FileManager.default.fileExists(atPath: checkpoints.path) {
                    removals.append(Removal(jobID: job.jobID, path: checkpoints.path, reason: reason, checkpointRoot: checkpoints.path))
                }
            } else {
                let reason: String
                if retention.policy == .cleanupAll {
                    reason = "\(status); policy cleanup_all"
                } else if let age {
                    reason = "\(status); \(age)"
                } else {
                    continue
                }
                removals.append(Removal(jobID: job.jobID, path: folder, reason: reason))
                // Submitting the job id again resumes from the newest valid checkpoint: it stays.
                guard let checkpoints else { continue }
                let entries = CheckpointCatalog.entries(jobID: job.jobID, checkpointDirectory: checkpoints.deletingLastPathComponent().path)
                let resume = entries.first { $0.isValid }?.id
                for entry in entries where entry.id != resume {
                    removals.append(
                        Removal(
                            jobID: job.jobID, path: checkpoints.appendingPathComponent("chk-\(entry.id)").path,
                            reason: reason + "; chk-\(resume.map(String.init) ?? "-") kept to resume from", checkpointRoot: checkpoints.path))
                }
            }
        }
        return removals
    }

    /// Removes what ``plan(workDirectory:retention:now:finished:)`` listed. Each job's lock is
    /// taken first (but `finished`'s, which the caller holds): a job some process started
    /// meanwhile is skipped. Returns what was removed.
    @discardableResult
    public static func apply(_ removals: [Removal], workDirectory: String, finished: String? = nil) -> [Removal] {
        var removed: [Removal] = []
        for (jobID, paths) in Dictionary(grouping: removals, by: \.jobID).sorted(by: { $0.key < $1.key }) {
            let folder = URL(fileURLWithPath: workDirectory).appendingPathComponent(jobID)
            var locks: [JobLock] = []
            var paths = paths
            if jobID != finished {
                guard FileManager.default.fileExists(atPath: folder.path), let taken = try? JobLock(folder: folder, jobID: jobID) else { continue }
                locks.append(taken)
                // Its checkpoints too: a process of the same id elsewhere may hold them.
                if let root = paths.compactMap(\.checkpointRoot).first {
                    if FileManager.default.fileExists(atPath: root), let checkpointLock = try? JobLock(folder: URL(fileURLWithPath: root), jobID: jobID) {
                        locks.append(checkpointLock)
                    } else {
                        paths.removeAll { $0.checkpointRoot != nil }
                    }
                }
            }
            // The job folder last: it holds the lock that keeps other processes out meanwhile.
            for removal in paths.sorted(by: { ($0.path == folder.path ? 1 : 0, $0.path) < ($1.path == folder.path ? 1 : 0, $1.path) }) {
                if (try? FileManager.default.removeItem(atPath: removal.path)) != nil { removed.append(removal) }
            }
            withExtendedLifetime(locks) {}
        }
        return removed
    }

    /// The job's checkpoint folder, `checkpoint_dir/<job_id>`: the absolute path its summary
    /// recorded, or a configured absolute `checkpoint_dir`. `nil` when neither is known — a
    /// relative directory read by a process in another directory could name another job's.
    static func checkpointFolder(of job: JobSummary) -> URL? {
        if let path = job.checkpointPath { return URL(fileURLWithPath: path) }
        var directory = FaultToleranceConfiguration().checkpointDirectory
        if case .object(let fault)? = job.config["fault_tolerance"], case .string(let configured)? = fault["checkpoint_dir"] {
            directory = configured
        }
        guard directory.hasPrefix("/") else { return nil }
        return URL(fileURLWithPath: directory).appendingPathComponent(job.jobID)
    }

    private static func format(_ days: Double) -> String {
        days == days.rounded() ? String(Int(days)) : String(days)
    }
}
