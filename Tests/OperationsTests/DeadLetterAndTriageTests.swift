import Crypto
import Foundation
import JobstreamMessages
import Kafka
import Logging
import Testing

@testable import JobstreamService

@Suite("Dead letters that fit, failures told apart, and pacing")
struct DeadLetterAndTriageTests {
    static let producer = try! KafkaProducer(
        configuration: ProducerConfiguration(kafka: KafkaConfiguration(brokers: "127.0.0.1:1")),
        logger: Logger(label: "test"))

    func publisher(maxBytes: Int) -> DeadLetterPublisher {
        DeadLetterPublisher(producer: Self.producer, consumerGroup: "g", logger: Logger(label: "test"), maxBytes: maxBytes)
    }

    /// A consumed message whose value, as the consumer hands out small values, is a slice of a larger
    /// buffer that starts past its first byte.
    func message(value: [UInt8], key: [UInt8]? = Array("k".utf8), headers: [KafkaHeader] = []) -> KafkaConsumerMessage {
        KafkaConsumerMessage(
            topic: "jobstream.backfill.requests", partition: 2, offset: 41, key: key,
            value: ([0xFF] + value + [0xFF]).dropFirst().dropLast(),
            headers: headers, timestampMilliseconds: nil)
    }

    static func size(_ letter: KafkaProducerMessage) -> Int {
        (letter.key?.count ?? 0) + (letter.value?.count ?? 0)
            + letter.headers.reduce(0) { $0 + $1.key.utf8.count + ($1.value?.count ?? 0) }
    }

    @Test("a letter that fits keeps the original whole; the reason is cut to 1 KB")
    func fits() {
        let letter = publisher(maxBytes: 10_000).deadLetter(
            for: message(value: Array("small".utf8)),
            reason: String(repeating: "r", count: 600_000))
        #expect(letter.value == Array("small".utf8) && letter.key == Array("k".utf8))
        #expect((letter.headers.first { $0.key == DeadLetterHeaders.error }?.value?.count ?? 0) <= InputLimits.reasonBytes)
        #expect(!letter.headers.contains { $0.key == DeadLetterHeaders.originalValueBytes })
    }

    @Test(
        "a value too large is cut to fit, with its size and SHA-256; then headers, then the key go", arguments: [2_000, 600, 0])
    func cut(maxBytes: Int) {
        let value = (0..<700_000).map { UInt8($0 % 251) }
        let original = message(
            value: value, key: Array(repeating: 0x6B, count: 900),
            headers: [KafkaHeader(key: "trace", text: String(repeating: "t", count: 500))])
        let letter = publisher(maxBytes: maxBytes).deadLetter(for: original, reason: "too large")
        let headers = Dictionary(letter.headers.map { ($0.key, $0.text ?? "") }, uniquingKeysWith: { first, _ in first })
        #expect(headers[DeadLetterHeaders.originalValueBytes] == "700000")
        #expect(
            headers[DeadLetterHeaders.originalValueSHA256] == SHA256.hash(data: value).map { String(format: "%02x", $0) }.joined()
        )
        #expect(value.starts(with: letter.value ?? []))
        if maxBytes > 0 { #expect(Self.size(letter) <= maxBytes) }
        #expect(
            headers[DeadLetterHeaders.originalTopic] == "jobstream.backfill.requests"
                && headers[DeadLetterHeaders.originalOffset] == "41")
    }

    @Test("a broker's refusal of the message is its fault; a broker away is an outage")
    func kafkaTriage() async {
        let triage = FailureTriage(store: nil)
        #expect(await !triage.isOutage(KafkaError(.delivery, "too large", librdkafkaCode: 10)))
        #expect(await triage.isOutage(KafkaError(.delivery, "timed out", librdkafkaCode: -192)))
        #expect(await !triage.isOutage(UnprocessableMessage("no")))
    }

    @Test("a pacer spaces turns: 6 turns at 20 a second take at least 250 ms")
    func pacing() async throws {
        let pacer = Pacer(perSecond: 20)
        let started = ContinuousClock.now
        for _ in 0..<6 { try await pacer.waitForTurn() }
        #expect(ContinuousClock.now - started >= .milliseconds(250))
        #expect(!Pacer(perSecond: 0).isLimited)
    }
}
