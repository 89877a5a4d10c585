/// Count, describe and cut a step's input buffer (for fault injection), typed once here.
func typedInputAccess<Element>(_ buffer: BatchBuffer<Element>) -> (count: () -> Int, describe: (Int) -> String, cut: (Int) -> () -> Void) {
    (
        count: { buffer.items.count },
        describe: { index in index < buffer.items.count ? describeRecord(buffer.items[index]) : "" },
        cut: { position in
            let whole = buffer.items
            buffer.items = Array(whole[..<position])
            return { buffer.items = whole }
        }
    )
}
