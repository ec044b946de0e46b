// swift-tools-version:5.9
// LinliKit: the Rust core (Linli.xcframework), its generated Swift bindings, and the screen
// state the iOS app's views observe. Run ../build-xcframework.sh first: it writes the
// xcframework and Sources/LinliBindings/linli.swift, which are outputs and not in git.

import PackageDescription

let package = Package(
    name: "LinliKit",
    defaultLocalization: "zh-Hans",
    platforms: [.iOS(.v16)],
    products: [
        .library(name: "LinliKit", targets: ["LinliKit"]),
    ],
    targets: [
        // liblinli.a per platform, with linliFFI.h and the `linliFFI` clang module.
        // SwiftPM wants the target named as the .xcframework.
        .binaryTarget(name: "Linli", path: "Linli.xcframework"),
        // uniffi's generated Swift (`import linliFFI`), never edited by hand.
        .target(
            name: "LinliBindings",
            dependencies: ["Linli"],
            path: "Sources/LinliBindings",
            linkerSettings: [
                // The core verifies TLS with the platform's trust store
                // (rustls-platform-verifier → Security.framework).
                .linkedFramework("Security"),
                .linkedFramework("CoreFoundation"),
            ]
        ),
        // Screen state: plain observable classes over the generated API; no UIKit, no views.
        .target(
            name: "LinliKit",
            dependencies: ["LinliBindings"],
            path: "Sources/LinliKit"
        ),
    ]
)
