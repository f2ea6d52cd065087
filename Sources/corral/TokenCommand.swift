import ArgumentParser
import Foundation
import SchedulerService

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Make tokens for the scheduler's configuration.",
        subcommands: [New.self, Hash.self])

    struct New: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a new random token (256 bits, hex).")
        func run() async throws { print(SchedulerConfig.randomToken()) }
    }

    struct Hash: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read a token on standard input and print its sha256: form for config.json.",
            discussion: """
                A configuration that holds only sha256: forms gives nothing away if it is read: the scheduler keeps \
                and compares only digests.
                """)
        func run() async throws {
            let input = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            let token = input.trimmingCharacters(in: .whitespacesAndNewlines)
            guard token.count >= 16 else { throw ValidationError("a token has at least 16 characters") }
            print(TokenDigest.prefix + TokenDigest.hex(of: token))
        }
    }
}
