/// An internal invariant of the runtime did not hold: a bug in Tributary, reported as an error
/// rather than a crash so that the job fails cleanly.
@usableFromInline
struct RuntimeInvariantError: Error, CustomStringConvertible {
    let what: String
    @usableFromInline init(_ what: String) { self.what = what }
    @usableFromInline var description: String { "internal error in Tributary's runtime (\(what)); please report it" }
}
