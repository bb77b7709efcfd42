import Core
import Foundation
import XCTest

/// Migrations run in a scratch schema of the test database, so the real one is untouched.
final class MigrationTests: XCTestCase {
    private var schema = ""
    private var db: PostgresConnection!

    override func setUpWithError() throws {
        db = try TestStack.connection()
        schema = "migration_test_\(UInt32.random(in: 0...UInt32.max))"
        try db.runScript("CREATE SCHEMA \(schema); SET search_path = \(schema)")
    }

    override func tearDownWithError() throws {
        try db?.runScript("SET search_path = public; DROP SCHEMA IF EXISTS \(schema) CASCADE")
    }

    func testProductMigrationsApplyOnceAndASecondRunDoesNothing() throws {
        let migrations = try Migrator.load(directory: try TestStack.schemaDir)
        XCTAssertFalse(migrations.isEmpty)
        let first = try Migrator(connection: db).apply(migrations)
        XCTAssertEqual(first, migrations.map(\.version))
        XCTAssertEqual(try Migrator(connection: db).apply(migrations), [])
        let tables = try db.query(
            "SELECT tablename FROM pg_tables WHERE schemaname = $1", [schema]).rows.map { try $0.decode("tablename", as: String.self) }
        for table in ["tenants", "sales_agents", "channel_accounts", "contacts", "contact_identities", "leads", "conversations",
                      "messages", "activity_logs", "webhook_events", "outbox_events", "queue_jobs", "idempotency_keys",
                      "schema_migrations"] {
            XCTAssertTrue(tables.contains(table), "missing table \(table)")
        }
    }

    /// (On the test database's real schema.) Every inbound message looks its conversation up by (tenant, channel,
    /// thread) and matches the account with IS NOT DISTINCT FROM, which no index can search on: the thread must come
    /// before the account in the key, or the lookup reads all of a channel's conversations (0009 had it so, and the
    /// worker fell seconds behind at 500 events/s).
    func testTheConversationKeySearchesByThreadBeforeAccount() throws {
        let definition: String = try XCTUnwrap(try db.query("""
            SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint
             WHERE conname = 'conversations_thread_key' AND conrelid = 'public.conversations'::regclass
            """).first?.decode("def"))
        let columns = definition.drop { $0 != "(" }.dropFirst().prefix { $0 != ")" }
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        XCTAssertEqual(columns, ["tenant_id", "channel", "channel_thread_id", "channel_account_id"], definition)
        XCTAssertTrue(definition.contains("NULLS NOT DISTINCT"), definition)
    }

    /// 0012: a LINE group conversation recorded on the lead of the member who spoke first moves onto the group's lead.
    func testAGroupConversationOnAMembersLeadMovesToTheGroupsLead() throws {
        let all = try Migrator.load(directory: try TestStack.schemaDir)
        try Migrator(connection: db).apply(all.filter { $0.version < "0012" })
        try db.runScript("SELECT set_config('hubchat.scope', 'system', false)")
        defer { _ = try? db.runScript("SELECT set_config('hubchat.scope', '', false)") }
        let group = "C" + String(repeating: "a1", count: 16), member = "U" + String(repeating: "b2", count: 16)
        let tenant = UUID(), contact = UUID(), identity = UUID(), lead = UUID(), conversation = UUID()
        try db.query("INSERT INTO tenants (id, name) VALUES ($1, 'Group shop')", [tenant])
        try db.query("INSERT INTO contacts (id, tenant_id, display_name) VALUES ($1, $2, 'Member')", [contact, tenant])
        try db.query("""
            INSERT INTO contact_identities (id, tenant_id, contact_id, channel, external_user_id) VALUES ($1, $2, $3, 'LINE', $4)
            """, [identity, tenant, contact, member])
        try db.query("""
            INSERT INTO leads (id, tenant_id, contact_id, source_channel, external_user_id) VALUES ($1, $2, $3, 'LINE', $4)
            """, [lead, tenant, contact, member])
        try db.query("""
            INSERT INTO conversations (id, tenant_id, lead_id, contact_id, contact_identity_id, channel, channel_thread_id,
                                       provider_external_user_id, last_message_at)
            VALUES ($1, $2, $3, $4, $5, 'LINE', $6, $7, now())
            """, [conversation, tenant, lead, contact, identity, group, member])
        try Migrator(connection: db).apply(all)
        let moved = try XCTUnwrap(try db.query("""
            SELECT l.external_user_id, c.provider_external_user_id, i.external_user_id AS identity
              FROM conversations c JOIN leads l ON l.id = c.lead_id JOIN contact_identities i ON i.id = c.contact_identity_id
             WHERE c.id = $1
            """, [conversation]).first)
        XCTAssertEqual(moved["external_user_id"], group)
        XCTAssertEqual(moved["identity"], group)
        XCTAssertEqual(moved["provider_external_user_id"], group)
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM leads WHERE id = $1", [lead]).first?.decode("n", as: Int.self), 1,
                       "the member keeps their lead")
    }

    /// Upgrading: a comment thread answered by a Private Reply before 0019 moves to the PSID it named and the PSID
    /// is linked to the commenter's lead; a second thread answered to the same PSID, and a PSID someone already
    /// has, stay as they were; after it, that customer's Messenger message is recorded on the commenter's lead.
    func testAnsweredCommentThreadsMoveToTheirPSIDOnUpgrade() throws {
        let all = try Migrator.load(directory: try TestStack.schemaDir)
        try Migrator(connection: db).apply(all.filter { $0.version < "0019" })
        try db.runScript("SELECT set_config('hubchat.scope', 'system', false)")
        defer { _ = try? db.runScript("SELECT set_config('hubchat.scope', '', false)") }
        let tenant = UUID()
        try db.query("INSERT INTO tenants (id, name) VALUES ($1, 'Comment shop')", [tenant])
        /// A commenter's lead with a comment thread answered at `repliedMinutesAgo` to `psid`.
        func answeredThread(commenter: String, comment: String, psid: String, repliedMinutesAgo: Int) throws -> (UUID, UUID) {
            let contact = UUID(), lead = UUID(), conversation = UUID()
            try db.query("INSERT INTO contacts (id, tenant_id) VALUES ($1, $2)", [contact, tenant])
            try db.query("""
                INSERT INTO leads (id, tenant_id, contact_id, source_channel, external_user_id) VALUES ($1, $2, $3, 'FACEBOOK', $4)
                ON CONFLICT DO NOTHING
                """, [lead, tenant, contact, commenter])
            let leadID: UUID = try db.query("SELECT id FROM leads WHERE tenant_id = $1 AND external_user_id = $2",
                                            [tenant, commenter]).first!.decode("id")
            try db.query("""
                INSERT INTO conversations (id, tenant_id, lead_id, contact_id, channel, channel_thread_id, provider_thread_type,
                                           provider_comment_id, provider_external_user_id, private_reply_sent_at)
                VALUES ($1, $2, $3, $4, 'FACEBOOK', $5, 'FACEBOOK_COMMENT', $5, $6, now() - make_interval(mins => $7))
                """, [conversation, tenant, leadID, contact, comment, psid, repliedMinutesAgo])
            return (conversation, leadID)
        }
        let (first, lead) = try answeredThread(commenter: "81", comment: "p_1", psid: "7001", repliedMinutesAgo: 10)
        let (second, _) = try answeredThread(commenter: "81", comment: "p_2", psid: "7001", repliedMinutesAgo: 5)
        let (taken, _) = try answeredThread(commenter: "82", comment: "p_3", psid: "7002", repliedMinutesAgo: 5)
        try db.query("""
            WITH c AS (INSERT INTO contacts (tenant_id) VALUES ($1) RETURNING id)
            INSERT INTO contact_identities (tenant_id, contact_id, channel, external_user_id) SELECT $1, id, 'FACEBOOK', '7002' FROM c
            """, [tenant])
        try Migrator(connection: db).apply(all)

        func thread(_ id: UUID) throws -> String? { try db.query("SELECT channel_thread_id FROM conversations WHERE id = $1", [id]).first?["channel_thread_id"] ?? nil }
        XCTAssertEqual(try thread(first), "7001")
        XCTAssertEqual(try thread(second), "p_2", "one PSID, one thread")
        XCTAssertEqual(try thread(taken), "p_3", "a PSID someone has keeps its owner")
        let recorded = try XCTUnwrap(try db.query("""
            SELECT * FROM hubchat_record_inbound_message($1, 'FACEBOOK', '7001', NULL, NULL, NULL, false, now(), '7001',
                'MESSENGER_DM', NULL, NULL, NULL, 'TEXT', 'answer', NULL, 'm_1', '{}'::jsonb, NULL, NULL, 'm_1',
                NULL, NULL, NULL, NULL, NULL, NULL)
            """, [tenant]).first)
        XCTAssertEqual(recorded["lead_id"], lead.uuidString.lowercased())
        XCTAssertEqual(recorded["conversation_id"], first.uuidString.lowercased())
        XCTAssertEqual(try db.query("SELECT count(*) AS n FROM leads WHERE tenant_id = $1", [tenant]).first?.decode("n", as: Int.self), 2)
    }

    func testAFailingMigrationLeavesNothingBehind() throws {
        let dir = try Self.directory(with: [
            "0001_first.sql": "CREATE TABLE first_ok (id int);",
            "0002_broken.sql": "CREATE TABLE half_done (id int); SELECT 1/0;",
        ])
        XCTAssertThrowsError(try Migrator(connection: db).apply(try Migrator.load(directory: dir))) { error in
            guard case .failed(let version, _)? = error as? Migrator.Failure else { return XCTFail("\(error)") }
            XCTAssertEqual(version, "0002")
        }
        let tables = try db.query("SELECT tablename FROM pg_tables WHERE schemaname = $1", [schema]).rows
            .map { try $0.decode("tablename", as: String.self) }
        XCTAssertTrue(tables.contains("first_ok"))
        XCTAssertFalse(tables.contains("half_done"))
        XCTAssertEqual(try db.query("SELECT version FROM schema_migrations").rows.map { try $0.decode("version", as: String.self) },
                       ["0001"])
    }

    func testAnEditedAppliedMigrationIsRefused() throws {
        let dir = try Self.directory(with: ["0001_first.sql": "CREATE TABLE edited (id int);"])
        try Migrator(connection: db).apply(try Migrator.load(directory: dir))
        try "CREATE TABLE edited (id bigint);".write(toFile: dir + "/0001_first.sql", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Migrator(connection: db).apply(try Migrator.load(directory: dir))) { error in
            guard case .editedAfterApplying(let v)? = error as? Migrator.Failure else { return XCTFail("\(error)") }
            XCTAssertEqual(v, "0001")
        }
    }

    /// An older release run against a database a newer one migrated says so, instead of only "up to date".
    func testMigrationsOfANewerReleaseAreNamed() throws {
        let newer = try Self.directory(with: ["0001_first.sql": "CREATE TABLE one (id int);",
                                              "0002_second.sql": "CREATE TABLE two (id int);"])
        try Migrator(connection: db).apply(try Migrator.load(directory: newer))
        let older = try Self.directory(with: ["0001_first.sql": "CREATE TABLE one (id int);"])
        let migrator = Migrator(connection: db)
        XCTAssertEqual(try migrator.apply(try Migrator.load(directory: older)), [])
        XCTAssertEqual(try migrator.unknownVersions(try Migrator.load(directory: older)), ["0002"])
        XCTAssertEqual(try migrator.unknownVersions(try Migrator.load(directory: newer)), [])
    }

    func testBadFileNamesAreRefused() throws {
        let dir = try Self.directory(with: ["first.sql": "SELECT 1;"])
        XCTAssertThrowsError(try Migrator.load(directory: dir))
    }

    static func directory(with files: [String: String]) throws -> String {
        let dir = NSTemporaryDirectory() + "hubchat-migrations-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, sql) in files { try sql.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }
        return dir
    }
}
