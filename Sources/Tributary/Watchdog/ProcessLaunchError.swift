/// A child process could not be started: the executable is missing or not executable, a file
/// for its output cannot be opened, or the system is out of processes or descriptors.
public struct ProcessLaunchError: Error, Sendable, CustomStringConvertible {
    /// The path that was to be run.
    public let executable: String
    /// What the system said.
    public let reason: String

    public var description: String { "cannot run \(executable): \(reason)" }
}
