import Tributary
let env = try LocalEnvironment("smoke")
let sink = CollectSink<Int>()
env.fromCollection(Array(0..<10000)).map { $0 * 2 }.filter { $0 % 3 == 0 }.keyBy { $0 % 10 }.reduce(+).sink(sink)
let result = try await env.submit()
print(result)
print(sink.values.count, sink.values.suffix(3))
