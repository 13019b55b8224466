import ArgumentParser
import Foundation
import Logging
import Testing

@testable import JobstreamService

@Suite("Settings from the environment and a configuration file")
struct SettingsTests {
    private func file(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("jobstream-\(UUID().uuidString).conf").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("a file's keys, comments and quoted values")
    func parsesFile() throws {
        let parsed = try ConfigurationFile(
            path: "x.conf",
            text: """
                # the processors of region A
                brokers = kafka-1:9092,kafka-2:9092

                  metrics-port=9464
                kafka.security.protocol = "SASL_SSL"
                """)
        #expect(parsed.entries["brokers"]?.value == "kafka-1:9092,kafka-2:9092")
        #expect(parsed.entries["brokers"]?.line == 2)
        #expect(parsed.entries["metrics-port"]?.value == "9464")
        #expect(parsed.entries["kafka.security.protocol"]?.value == "SASL_SSL")
    }

    @Test("a line without '=' and a key set twice are errors naming the file and line")
    func refusesBadLines() {
        #expect { try ConfigurationFile(path: "x.conf", text: "brokers = a:1\nmetrics-port 9464\n") } throws: { error in
            "\(error)".contains("x.conf line 2") && "\(error)".contains("key = value")
        }
        #expect { try ConfigurationFile(path: "x.conf", text: "group = a\n\ngroup = b\n") } throws: { error in
            "\(error)".contains("x.conf line 3") && "\(error)".contains("already set on line 1")
        }
    }

    @Test("flags' names in the environment: JOBSTREAM_ and upper case")
    func environmentNames() {
        #expect(Settings.environmentName(for: "metrics-port") == "JOBSTREAM_METRICS_PORT")
        #expect(Settings.environmentName(for: "file-store") == "JOBSTREAM_FILE_STORE")
    }

    @Test("the environment wins over the file; KAFKA_BROKERS is read when JOBSTREAM_BROKERS is not set")
    func precedence() throws {
        let path = try file("brokers = from-file:9092\ngroup = file-group\nchunk-size = 250\n")
        let sources = SettingsSources(
            arguments: ["backfill-validator", "--config", path],
            environment: ["JOBSTREAM_GROUP": "env-group", "KAFKA_BROKERS": "legacy:9092"])
        #expect(sources.value("group") == "env-group")
        #expect(sources.value("brokers") == "legacy:9092")
        #expect(sources.value("chunk-size") == 250)
        #expect(sources.value("lease") as Int? == nil)
        #expect(sources.problems.isEmpty)
        let configuredByEnvironment = SettingsSources(arguments: ["x"], environment: ["JOBSTREAM_CONFIG": path])
        #expect(configuredByEnvironment.value("brokers") == "from-file:9092")
    }

    @Test("a value that does not parse is a problem naming where it came from")
    func invalidValues() throws {
        let path = try file("metrics-port = ninety\n")
        let sources = SettingsSources(arguments: ["x", "--config=\(path)"], environment: ["JOBSTREAM_CHUNK_SIZE": "lots"])
        #expect(sources.value("metrics-port") as Int? == nil)
        #expect(sources.value("chunk-size") as Int? == nil)
        #expect(sources.value("log-level") as Logger.Level? == nil)
        #expect(
            sources.problems == [
                "\(path) line 1: \"ninety\" is not a valid value for --metrics-port",
                "environment variable JOBSTREAM_CHUNK_SIZE: \"lots\" is not a valid value for --chunk-size",
            ])
    }

    @Test("an unknown key in the file and an unreadable file are problems")
    func unknownKeysAndMissingFiles() throws {
        let path = try file("brokers = a:1\nchunk-sise = 10\n")
        #expect(
            SettingsSources(arguments: ["x", "--config", path], environment: [:]).problems == [
                "\(path) line 2: unknown setting \"chunk-sise\" (see the settings table in the README)"
            ])
        let missing = SettingsSources(arguments: ["x", "--config", "/nonexistent/jobstream.conf"], environment: [:])
        #expect(missing.problems.count == 1)
        #expect(missing.problems.first?.contains("/nonexistent/jobstream.conf cannot be read") == true)
    }

    @Test("librdkafka properties from kafka.* keys and JOBSTREAM_KAFKA_* variables, the environment winning")
    func kafkaProperties() throws {
        let path = try file("kafka.security.protocol = SSL\nkafka.ssl.ca.location = /etc/ca.pem\n")
        let sources = SettingsSources(
            arguments: ["x", "--config", path],
            environment: [
                "JOBSTREAM_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                "JOBSTREAM_KAFKA_SASL_MECHANISMS": "SCRAM-SHA-512",
            ])
        #expect(
            sources.kafkaProperties == [
                "security.protocol": "SASL_SSL", "ssl.ca.location": "/etc/ca.pem", "sasl.mechanisms": "SCRAM-SHA-512",
            ])
    }

    /// The repository's root, from this file's place in it.
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test("the README's settings table names every setting with its flag, variable and key")
    func readmeTable() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        for key in Settings.knownKeys {
            let row = "| `--\(key)` | `\(Settings.environmentName(for: key))`"
            #expect(readme.contains(row), "README lacks the row of \(key)")
            #expect(readme.contains("| `\(key)` |"), "README lacks the file key of \(key)")
        }
    }

    @Test("the configuration files in deploy/systemd load without a problem")
    func deployedFiles() throws {
        let folder = Self.root.appendingPathComponent("deploy/systemd")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".conf") }
        #expect(files.count == 5)
        for name in files {
            let sources = SettingsSources(
                arguments: ["x", "--config", folder.appendingPathComponent(name).path], environment: [:])
            #expect(sources.problems.isEmpty, "\(name): \(sources.problems)")
            #expect(sources.value("metrics-port") as Int? != nil, "\(name) gives the operations port")
            #expect(sources.kafkaProperties["security.protocol"] == "SASL_SSL")
        }
    }
}
