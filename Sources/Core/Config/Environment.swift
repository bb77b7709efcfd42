/// Reads typed settings from environment variables, naming the variable in every error.
public struct Environment: Sendable {
    public struct Invalid: Error, CustomStringConvertible {
        public let variable: String
        public let problem: String
        public var description: String { "\(variable): \(problem)" }
    }

    public let values: [String: String]

    public init(_ values: [String: String]) { self.values = values }

    /// The process environment.
    public static var process: Environment {
        var values: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let text = String(cString: entry)
            if let eq = text.firstIndex(of: "=") {
                values[String(text[..<eq])] = String(text[text.index(after: eq)...])
            }
            p = p.advanced(by: 1)
        }
        return Environment(values)
    }

    /// A non-empty value, or nil when unset or blank.
    public func string(_ name: String) -> String? {
        guard let v = values[name]?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
        return v
    }

    public func string(_ name: String, default value: String) -> String { string(name) ?? value }

    public func firstString(_ names: String...) -> String? {
        for n in names { if let v = string(n) { return v } }
        return nil
    }

    public func int(_ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = string(name) else { return value }
        guard let v = Int(text) else { throw Invalid(variable: name, problem: "expected an integer, got \"\(text)\"") }
        guard range.contains(v) else {
            throw Invalid(variable: name, problem: "must be between \(range.lowerBound) and \(range.upperBound), got \(v)")
        }
        return v
    }

    public func bool(_ name: String, default value: Bool) throws -> Bool {
        guard let text = string(name)?.lowercased() else { return value }
        switch text {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw Invalid(variable: name, problem: "expected true or false, got \"\(text)\"")
        }
    }

    public func oneOf(_ name: String, _ allowed: [String], default value: String) throws -> String {
        guard let text = string(name) else { return value }
        guard allowed.contains(text) else {
            throw Invalid(variable: name, problem: "must be one of \(allowed.joined(separator: ", ")), got \"\(text)\"")
        }
        return text
    }

    public func required(_ name: String) throws -> String {
        guard let v = string(name) else { throw Invalid(variable: name, problem: "is required") }
        return v
    }
}

#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
