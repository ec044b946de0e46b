// This phone's enrolment (server, user, device; the token in the Keychain) and its store.

import Foundation
import LinliKit
import Security

struct Enrolment: Codable, Equatable {
    var serverUrl: String
    var userId: String
    var deviceId: String
}

@MainActor
final class Session: ObservableObject {
    @Published private(set) var enrolment: Enrolment?
    @Published private(set) var token: String?
    @Published private(set) var store: LinliStore?
    @Published private(set) var restoring = true
    @Published private(set) var notice: Notice?

    private static let enrolmentKey = "cn.linli.enrolment"

    /// Opens the store of the enrolled user, if any.
    func restore() async {
        defer { restoring = false }
        guard store == nil,
            let data = UserDefaults.standard.data(forKey: Self.enrolmentKey),
            let saved = try? JSONDecoder().decode(Enrolment.self, from: data),
            let token = Keychain.token()
        else { return }
        await open(saved, token: token)
    }

    /// The store and sync settings for a background sync, restoring the session first when
    /// iOS launched the app in the background for it; nils when the phone is not enrolled.
    func syncing() async -> (LinliStore?, SyncSettings?) {
        if store == nil { await restore() }
        guard let store, let enrolment, let token else { return (nil, nil) }
        return (store, SyncSettings(serverUrl: enrolment.serverUrl, token: token))
    }

    /// Saves what the community office issued for this phone (device id and token) and opens
    /// the store. The first sync then brings the place tree and the building's households.
    func enrol(_ enrolment: Enrolment, token: String) async {
        guard Keychain.setToken(token) else {
            notice = Notice(.storageFailed)
            return
        }
        UserDefaults.standard.set(try? JSONEncoder().encode(enrolment), forKey: Self.enrolmentKey)
        // A new enrolment's alerts start from its own first sync.
        DefaultsSnapshotKeeper().clear()
        await open(enrolment, token: token)
    }

    private func open(_ enrolment: Enrolment, token: String) async {
        do {
            let path = try Self.storePath(userId: enrolment.userId)
            guard let key = Keychain.databaseKey() else {
                notice = Notice(.storageFailed)
                return
            }
            // Opening runs migrations: off the main thread.
            let store = try await StoreWorker.shared.run {
                try LinliStore.open(path: path, deviceId: enrolment.deviceId, userId: enrolment.userId, key: key)
            }
            self.enrolment = enrolment
            self.token = token
            self.store = store
            notice = nil
        } catch {
            notice = Notice(error)
        }
    }

    /// Signs out: erases the store (every record, its history and sync state, the WAL),
    /// deletes its files, the database key and the token, and forgets the enrolment. The
    /// caller has synced first and confirmed with the user if changes were left unsynced.
    /// A sync that finds the device revoked has already erased the store; this finishes it.
    func signOut() async {
        if let store {
            _ = try? await StoreWorker.shared.run { try store.eraseAll() }
        }
        store = nil
        if let enrolment, let path = try? Self.storePath(userId: enrolment.userId) {
            for suffix in ["", "-wal", "-shm"] {
                try? FileManager.default.removeItem(atPath: path + suffix)
            }
        }
        Keychain.deleteAll()
        UserDefaults.standard.removeObject(forKey: Self.enrolmentKey)
        DefaultsSnapshotKeeper().clear()
        enrolment = nil
        token = nil
    }

    /// Application Support/linli/<user>.db, encrypted by iOS data protection once the phone
    /// has been unlocked after boot (so a sync can finish with the screen locked).
    private static func storePath(userId: String) throws -> String {
        let dir = try FileManager.default
            .url(for: .applicationSupportDirectory, in: .userDomainMask, appropriateFor: nil, create: true)
            .appendingPathComponent("linli", isDirectory: true)
        try FileManager.default.createDirectory(
            at: dir, withIntermediateDirectories: true,
            attributes: [.protectionKey: FileProtectionType.completeUntilFirstUserAuthentication])
        var excluded = URLResourceValues()
        excluded.isExcludedFromBackup = true
        var url = dir
        try url.setResourceValues(excluded)
        return dir.appendingPathComponent("\(userId).db").path
    }
}

/// The device token and the database key, kept in the Keychain (never in UserDefaults or the
/// database), readable after the first unlock since boot, on this device only (not in
/// backups, not migrated to another phone).
enum Keychain {
    private static let tokenItem = "device-token"
    private static let keyItem = "database-key"

    private static func query(_ account: String) -> [String: Any] {
        [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrService as String: "cn.linli.sync",
            kSecAttrAccount as String: account,
        ]
    }

    private static func read(_ account: String) -> Data? {
        var q = query(account)
        q[kSecReturnData as String] = true
        q[kSecMatchLimit as String] = kSecMatchLimitOne
        var item: CFTypeRef?
        guard SecItemCopyMatching(q as CFDictionary, &item) == errSecSuccess else { return nil }
        return item as? Data
    }

    private static func write(_ account: String, _ data: Data) -> Bool {
        SecItemDelete(query(account) as CFDictionary)
        var q = query(account)
        q[kSecValueData as String] = data
        q[kSecAttrAccessible as String] = kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly
        return SecItemAdd(q as CFDictionary, nil) == errSecSuccess
    }

    static func token() -> String? {
        read(tokenItem).flatMap { String(data: $0, encoding: .utf8) }
    }

    static func setToken(_ token: String) -> Bool {
        write(tokenItem, Data(token.utf8))
    }

    /// The store's 32-byte key: generated (SecRandomCopyBytes) on first use and kept.
    /// Nil if the Keychain cannot be read or written.
    static func databaseKey() -> Data? {
        if let key = read(keyItem), key.count == 32 { return key }
        var bytes = [UInt8](repeating: 0, count: 32)
        guard SecRandomCopyBytes(kSecRandomDefault, bytes.count, &bytes) == errSecSuccess else {
            return nil
        }
        let key = Data(bytes)
        return write(keyItem, key) ? key : nil
    }

    /// Deletes the token and the database key (sign-out, revocation).
    static func deleteAll() {
        SecItemDelete(query(tokenItem) as CFDictionary)
        SecItemDelete(query(keyItem) as CFDictionary)
    }
}
