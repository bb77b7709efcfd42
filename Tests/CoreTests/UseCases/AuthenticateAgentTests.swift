import Foundation
import XCTest
@testable import Core

final class AuthenticateAgentTests: XCTestCase {
    struct Directory: MembershipDirectory {
        let rows: [Membership]
        func membership(tenantID: UUID, email: String) throws -> Membership? {
            rows.first { $0.tenantID == tenantID && $0.email == email }
        }
    }

    let tenant = UUID()
    let other = UUID()
    let authenticate = AuthenticateAgent(verifier: JWTVerifier(settings: .init(hs256Secret: "s"), keySet: nil))

    func member(_ role: AgentRole, active: Bool = true, tenant: UUID? = nil) -> Membership {
        Membership(agentID: UUID(), tenantID: tenant ?? self.tenant, email: "a@b.co", name: "A", role: role, isActive: active)
    }

    func status(_ body: () throws -> Any) -> Int? {
        do { _ = try body(); return nil } catch { return (error as? AppError)?.status }
    }

    func testAnActiveMembershipDecidesTheRole() throws {
        let token = VerifiedToken(subject: "s", email: "a@b.co", appMetadata: nil)
        let principal = try authenticate.principal(token: token, tenantID: tenant, directory: Directory(rows: [member(.manager)]))
        XCTAssertEqual(principal.role, .manager)
        XCTAssertNoThrow(try principal.require(AgentRole.managers))
        let sales = try authenticate.principal(token: token, tenantID: tenant, directory: Directory(rows: [member(.sales)]))
        XCTAssertEqual(status { try sales.require(AgentRole.managers) }, 403)
    }

    func testInactiveOrForeignMembershipIsForbiddenWhateverTheTokenSays() {
        let token = VerifiedToken(subject: "s", email: "a@b.co", appMetadata: [
            "tenant_id": .string(tenant.uuidString), "role": "ADMIN"])
        XCTAssertEqual(status { try self.authenticate.principal(
            token: token, tenantID: self.tenant, directory: Directory(rows: [self.member(.admin, active: false)])) }, 403)
        let plain = VerifiedToken(subject: "s", email: "a@b.co", appMetadata: nil)
        XCTAssertEqual(status { try self.authenticate.principal(
            token: plain, tenantID: self.tenant, directory: Directory(rows: [self.member(.admin, tenant: self.other)])) }, 403)
    }

    func testAppMetadataServesOnlyForTheTenantItNames() throws {
        let named = VerifiedToken(subject: "s", email: "ops@b.co", appMetadata: [
            "tenant_ids": .array([.string(tenant.uuidString.lowercased())]), "role": "manager"])
        let principal = try authenticate.principal(token: named, tenantID: tenant, directory: Directory(rows: []))
        XCTAssertEqual(principal.role, .manager)
        XCTAssertNil(principal.agentID)
        XCTAssertEqual(status { try self.authenticate.principal(token: named, tenantID: self.other, directory: Directory(rows: [])) }, 403)
        let unnamed = VerifiedToken(subject: "s", email: "ops@b.co", appMetadata: ["role": "ADMIN"])
        XCTAssertEqual(status { try self.authenticate.principal(token: unnamed, tenantID: self.tenant, directory: Directory(rows: [])) }, 403)
    }

    func testHeadersAreCheckedBeforeAnythingElse() {
        XCTAssertEqual(status { try self.authenticate.token(authorization: nil) }, 401)
        XCTAssertEqual(status { try self.authenticate.token(authorization: "Basic abc") }, 401)
        XCTAssertEqual(status { try self.authenticate.token(authorization: "Bearer nonsense") }, 401)
        XCTAssertEqual(status { try AuthenticateAgent.tenantID(header: nil) }, 400)
        XCTAssertEqual(status { try AuthenticateAgent.tenantID(header: "tenant-1") }, 400)
        XCTAssertEqual(try AuthenticateAgent.tenantID(header: tenant.uuidString.lowercased()), tenant)
    }
}
