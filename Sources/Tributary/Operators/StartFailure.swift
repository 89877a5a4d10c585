/// An operator could not start (its factory or its sink's writer threw).
struct StartFailure: Error {
    let error: any Error
}
