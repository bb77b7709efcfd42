import Foundation
import XCTest
@testable import Core

/// The JSON value type webhook payloads go through: parsing, canonical text, round trips.
final class JSONValueTests: XCTestCase {
    func testLineTimestampsAndIdsKeepTheirExactText() throws {
        let value = try JSONValue.parse(#"{"timestamp":1462629479859,"id":"10158452912345678_10158452998765432","n":9007199254740992}"#)
        XCTAssertEqual(value["timestamp"], .number(1462629479859))
        XCTAssertEqual(value["timestamp"]?.int64Value, 1462629479859)
        XCTAssertEqual(value["id"]?.stringValue, "10158452912345678_10158452998765432")
        XCTAssertEqual(value.serialized(),
                       #"{"id":"10158452912345678_10158452998765432","n":9007199254740992,"timestamp":1462629479859}"#)
    }

    /// The expected text was produced by Python's json.dumps(sort_keys=True, separators=(',', ':'),
    /// ensure_ascii=False), an independent canonical serializer.
    func testSerializationMatchesAnIndependentCanonicalForm() throws {
        let value: JSONValue = [
            "th": "สวัสดีครับ", "n": 1462629479859, "f": -0.25, "e": "a\"b\\c\nd\te\u{01}/", "arr": [true, false, nil],
        ]
        XCTAssertEqual(value.serialized(),
                       #"{"arr":[true,false,null],"e":"a\"b\\c\nd\te\u0001/","f":-0.25,"n":1462629479859,"th":"สวัสดีครับ"}"#)
    }

    func testRoundTripsThroughItsOwnText() throws {
        let samples = [
            #"{"a":[1,2.5,-0.001,1e-7,1.7976931348623157e308,-9007199254740993],"b":{"c":null,"d":false}}"#,
            #"["สวัสดี 😀","\u0000\u001f","tab\there","quote\"","back\\slash","/"]"#,
            #"{"":"","nested":[[[]],{}]}"#,
            "123", "\"just a string\"", "true", "null",
        ]
        for sample in samples {
            let first = try JSONValue.parse(sample)
            let text = first.serialized()
            XCTAssertEqual(try JSONValue.parse(text), first, sample)
            XCTAssertEqual(try JSONValue.parse(text).serialized(), text, "serialization is not stable for \(sample)")
        }
    }

    func testAnIntegerPastADoublesExactRangeKeepsEveryDigit() throws {
        let value = try JSONValue.parse(#"{"ig":17841400000000001,"neg":-9007199254740993,"ts":1718000000000,"big":1e300}"#)
        XCTAssertEqual(value["ig"]?.idString, "17841400000000001", "a Double would make it ...000")
        XCTAssertEqual(value["neg"]?.idString, "-9007199254740993")
        XCTAssertEqual(value["ts"]?.doubleValue, 1_718_000_000_000, "timestamps stay numbers")
        XCTAssertEqual(value["big"]?.doubleValue, 1e300)
        let batch = try MetaWebhook.parse(body: Array(#"{"object":"instagram","entry":[{"id":17841400000000001,"time":1718000000000,"messaging":[]}]}"#.utf8))
        XCTAssertEqual(batch.accounts, ["17841400000000001"])
    }

    func testNumbersPrintAsIntegersOnlyWhenWhole() {
        XCTAssertEqual(JSONValue.number(1462629479859).serialized(), "1462629479859")
        XCTAssertEqual(JSONValue.number(-42).serialized(), "-42")
        XCTAssertEqual(JSONValue.number(1.5).serialized(), "1.5")
        XCTAssertEqual(JSONValue.number(0.1).serialized(), "0.1")
        XCTAssertEqual(JSONValue.number(35.65910807942215).serialized(), "35.65910807942215")
        XCTAssertEqual(JSONValue.number(.nan).serialized(), "null")
        XCTAssertEqual(try JSONValue.parse(JSONValue.number(1e300).serialized()), .number(1e300))
    }

    func testDecodesEscapesAndUnicode() throws {
        let value = try JSONValue.parse(#"["\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35","\ud83d\ude00","\/","\b\f\n\r\t","\ud800x","caf\u00E9"]"#)
        XCTAssertEqual(value[0]?.stringValue, "สวัสดี")
        XCTAssertEqual(value[1]?.stringValue, "😀")
        XCTAssertEqual(value[2]?.stringValue, "/")
        XCTAssertEqual(value[3]?.stringValue, "\u{08}\u{0C}\n\r\t")
        XCTAssertEqual(value[4]?.stringValue, "\u{FFFD}x", "a lone surrogate becomes U+FFFD")
        XCTAssertEqual(value[5]?.stringValue, "café")
        // Raw UTF-8 Thai needs no escaping on the way out.
        XCTAssertEqual(JSONValue.string("ขอบคุณ").serialized(), "\"ขอบคุณ\"")
        XCTAssertEqual(JSONValue.string("\u{7f}\u{1b}").serialized(), "\"\u{7f}\\u001b\"")
    }

    func testSortsKeysAndLastDuplicateWins() throws {
        XCTAssertEqual(try JSONValue.parse(#"{"b":1,"a":2,"c":{"z":0,"y":1}}"#).serialized(), #"{"a":2,"b":1,"c":{"y":1,"z":0}}"#)
        XCTAssertEqual(try JSONValue.parse(#"{"a":1,"a":2}"#)["a"], .number(2))
    }

    func testAccessorsReturnNilForOtherShapes() throws {
        let value = try JSONValue.parse(#"{"s":"x","d":2,"b":true,"a":[1],"o":{"k":"v"},"n":null}"#)
        XCTAssertEqual(value["s"]?.stringValue, "x")
        XCTAssertNil(value["s"]?.doubleValue)
        XCTAssertEqual(value["d"]?.doubleValue, 2)
        XCTAssertNil(value["d"]?.stringValue)
        XCTAssertEqual(value["d"]?.idString, "2")
        XCTAssertEqual(value["b"]?.boolValue, true)
        XCTAssertNil(value["b"]?.doubleValue)
        XCTAssertEqual(value["a"]?.arrayValue, [.number(1)])
        XCTAssertEqual(value["a"]?[0], .number(1))
        XCTAssertNil(value["a"]?[1])
        XCTAssertNil(value["a"]?[-1])
        XCTAssertEqual(value["o"]?.objectValue, ["k": .string("v")])
        XCTAssertEqual(value["o"]?["k"]?.stringValue, "v")
        XCTAssertEqual(value["n"], .null)
        XCTAssertNil(value["missing"])
        XCTAssertNil(value[0], "an object has no index")
        XCTAssertNil(value["a"]?["k"], "an array has no keys")
    }

    func testRejectsMalformedJSON() {
        let bad = [
            "", " ", "{", "}", "[1,]", "[1 2]", "{\"a\" 1}", "{\"a\":1,}", "{a:1}", "01", "-", "1.", ".5", "1e", "+1",
            "tru", "nul", "NaN", "Infinity", "'x'", "\"unterminated", "\"bad \\x escape\"", "\"\\u12G4\"",
            "\"raw\ncontrol\"", "{} x", "[1]]", "1e999",
        ]
        for text in bad {
            XCTAssertThrowsError(try JSONValue.parse(text), "accepted \(text.debugDescription)") { error in
                XCTAssertTrue(error is JSONValue.ParseError, "\(error)")
            }
        }
    }

    func testReportsTheOffsetOfTheProblem() {
        XCTAssertThrowsError(try JSONValue.parse(#"{"a":[1,2,}"#)) { error in
            XCTAssertEqual((error as? JSONValue.ParseError)?.offset, 10)
        }
    }

    func testLimitsNestingDepth() throws {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        XCTAssertThrowsError(try JSONValue.parse(deep))
        let fine = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        XCTAssertNoThrow(try JSONValue.parse(fine))
    }

    func testSkipsAByteOrderMark() throws {
        XCTAssertEqual(try JSONValue.parse([0xEF, 0xBB, 0xBF] + Array(#"{"a":1}"#.utf8)), ["a": 1])
    }

    func testCodableAgreesWithTheParser() throws {
        let text = #"{"flag":true,"count":1,"name":"ลูกค้า","list":[null,1.5,"x"],"obj":{}}"#
        let decoded = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        XCTAssertEqual(decoded, try JSONValue.parse(text))
        XCTAssertEqual(decoded["flag"], .bool(true), "true must not decode as a number")
        XCTAssertEqual(decoded["count"], .number(1), "1 must not decode as a bool")
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let reencoded = try JSONDecoder().decode(JSONValue.self, from: encoder.encode(decoded))
        XCTAssertEqual(reencoded, decoded)
    }
}
