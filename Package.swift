// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "HubChat",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "hubchat-fcgi", targets: ["Handlers"]),
        .executable(name: "hubchat-worker", targets: ["Worker"]),
        .executable(name: "hubchat", targets: ["CLI"]),
        .library(name: "Core", targets: ["Core"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // C libraries enter Swift through these module maps only; the Swift wrappers right
        // above them (Core/Adapters/Postgres, Core/Adapters/HTTP, Handlers/Runtime) keep
        // pointers and return codes from leaking any further.
        .systemLibrary(name: "CFastCGI", path: "Sources/CFastCGI", providers: [.apt(["libfcgi-dev"])]),
        .systemLibrary(name: "CPostgres", path: "Sources/CPostgres", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CCurl", path: "Sources/CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // libvips is loaded at run time (dlopen) on first use, not linked: see Sources/CVips/shim.c.
        .target(name: "CVips", path: "Sources/CVips"),

        .target(
            name: "Core",
            dependencies: [
                "CPostgres", "CCurl",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                // RSA public keys for RS256 tokens from a JWKS.
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            path: "Sources/Core"
        ),
        // libvips behind the ImageProcessor port: uploads (responders) and previews (worker).
        .target(name: "VipsImages", dependencies: ["Core", "CVips"], path: "Sources/VipsImages"),
        .executableTarget(
            name: "Handlers",
            dependencies: ["Core", "CFastCGI", "VipsImages", .product(name: "Logging", package: "swift-log")],
            path: "Sources/Handlers"
        ),
        .executableTarget(
            name: "Worker",
            dependencies: [
                "Core", "VipsImages",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Sources/Worker"
        ),
        .executableTarget(
            name: "CLI",
            dependencies: [
                "Core",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Sources/CLI"
        ),

        .testTarget(
            name: "CoreTests",
            dependencies: [
                "Core",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            path: "Tests/CoreTests"),
        .testTarget(name: "HandlersTests", dependencies: ["Handlers", "Core"], path: "Tests/HandlersTests"),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["Core", .product(name: "Crypto", package: "swift-crypto")],
            path: "Tests/IntegrationTests"),
    ]
)
