import ArgumentParser
import Foundation
import Sandbox

struct ImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image", abstract: "Build task images from the recipes in Images/.", subcommands: [Build.self])

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build an image: run Images/NAME/build.sh into the images directory.")

        @Argument(help: "Image name (a directory under the recipes directory).") var name: String
        @Option(help: "Directory holding images as NAME/rootfs.") var imagesDir: String = "/var/lib/corral/images"
        @Option(help: "Directory holding recipes as NAME/build.sh (default ./Images).") var recipes: String?

        func run() throws {
            let store = ImageStore(directory: imagesDir)
            let recipesDir = recipes ?? ImageStore.defaultRecipes(executable: CommandLine.arguments[0])
            let script: String
            do { script = try store.recipe(for: name, in: recipesDir) } catch {
                throw ValidationError(error.description)
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = [script, "\(imagesDir)/\(name)/rootfs"]
            try process.run()
            process.waitUntilExit()
            if process.terminationStatus != 0 { throw ExitCode(process.terminationStatus) }
        }
    }
}
