import ArgumentParser
import CorralModel
import Foundation
import Sandbox

struct ImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image", abstract: "Import, build, list and remove this node's task images.",
        subcommands: [Import.self, List.self, Remove.self, Build.self])

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import an OCI image layout archive or a `docker save` archive into this node's image store.",
            discussion: """
                Every blob's sha256 is checked, the layers are unpacked in order (whiteouts and opaque \
                directories honoured; absolute or .. paths, links out of the image and device nodes refused), and \
                the result is stored once per content digest and shared read-only by every task that names it. \
                The agent advertises its images to the scheduler, which places jobs naming one only on nodes \
                that hold it.
                """)

        @Argument(help: "The archive (a tar file).") var file: String
        @Option(help: "The image's NAME:TAG (default: the archive's own name for it).") var name: String?
        @Option(help: "The image store.") var imagesDir: String = "/var/lib/corral/images"

        func run() throws {
            let reference = try name.map { text in
                guard let reference = ImageReference(text), reference.tag != nil else {
                    throw ValidationError("--name: \"\(text)\" must be NAME:TAG (each A-Z a-z 0-9 . _ -)")
                }
                return reference
            }
            let result = try ImageImport.run(archive: file, into: ImageStore(directory: imagesDir), as: reference)
            let layers = "\(result.layers) layer\(result.layers == 1 ? "" : "s")"
            print(
                "imported \(result.reference) \(result.digest) (\(layers)"
                    + (result.unpacked ? ")" : ", content already stored)"))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List this node's images.")
        @Option(help: "The image store.") var imagesDir: String = "/var/lib/corral/images"

        func run() {
            Table.print(
                ["IMAGE", "DIGEST"],
                ImageStore(directory: imagesDir).list().map {
                    [$0.reference.description, $0.digest.map { String($0.prefix(19)) } ?? "(recipe)"]
                })
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm", abstract: "Remove an imported image (refused while a task runs in it).")
        @Argument(help: "NAME:TAG") var image: String
        @Option(help: "The image store.") var imagesDir: String = "/var/lib/corral/images"

        func run() throws {
            guard let reference = ImageReference(image), reference.tag != nil else {
                throw ValidationError("\"\(image)\" is not NAME:TAG")
            }
            try ImageStore(directory: imagesDir).remove(reference)
            print("removed \(reference)")
        }
    }

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
