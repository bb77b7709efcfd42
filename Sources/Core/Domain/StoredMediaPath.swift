import FoundationEssentials

/// Where stored media keeps a tenant's files: `<bucket>/<tenant>/…` (uploads, previews) and
/// `<bucket>/inbound/<tenant>/…` (what customers sent). A path is a tenant's only with the tenant's id in that place.
public enum StoredMediaPath {
    /// Whether `folders` (the path split on `/`, the bucket first) is one of `tenant`'s files.
    public static func isTenants(_ folders: [Substring], tenant: UUID) -> Bool {
        let id = tenant.uuidString.lowercased()
        guard folders.count >= 3 else { return false }
        if folders[1] == id { return true }
        return folders.count >= 4 && folders[1] == "inbound" && folders[2] == id
    }
}
