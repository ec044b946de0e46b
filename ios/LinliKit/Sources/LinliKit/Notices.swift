// What the user is told, as a key: the app maps each `Message` to a localised string
// (Chinese by default, English as well), so these classes stay free of text.

import Foundation

public enum Message: Hashable, Sendable {
    /// No connection: everything is kept on the phone and syncs later.
    case willSyncLater
    /// The server no longer accepts this device's token.
    case signInAgain
    case deviceRevoked
    case updateApp
    /// `Notice.count` records are outside the user's area; they stay on the phone.
    case outsideArea
    /// The place is not one of the user's places (their grants): pick one of theirs.
    case outsideMyPlaces
    /// `Notice.count` records the server refused for another reason; they stay on the phone.
    case notAccepted
    case serverTrouble
    case storageFailed
    /// The record is not on this phone (yet).
    case notOnDevice
    /// A value was refused but belongs to no field on this form.
    case checkForm
    /// The incident moved on elsewhere; the list shows its current status.
    case moveNotAllowed
    /// The need moved on elsewhere (done, referred); the list shows where it stands.
    case needMovedOn
    /// The role table: this user's role never makes this move (or never reports).
    case notYourRole
    /// The role table: only the incident's current handler may make this move.
    case notTheHandler
    /// The role table: this user may not dispatch to that person or department.
    case dispatchTargetRefused
    case unexpected
}

public struct Notice: Hashable, Sendable {
    public let message: Message
    public let count: Int

    public init(_ message: Message, count: Int = 0) {
        self.message = message
        self.count = count
    }
}

extension Notice {
    /// Maps a failure to what the user can do about it. The switch is exhaustive over
    /// `LinliError`, so a new error variant in the core fails this build instead of
    /// falling through to `.unexpected`.
    public init(_ error: Error) {
        guard let error = error as? LinliError else {
            // A Rust panic uniffi turned into an error, or anything else.
            self.init(.unexpected)
            return
        }
        switch error {
        case .Network: self.init(.willSyncLater)
        case .Unauthorized: self.init(.signInAgain)
        case .Revoked: self.init(.deviceRevoked)
        case .UnsupportedVersion: self.init(.updateApp)
        case .Server: self.init(.serverTrouble)
        case .Storage: self.init(.storageFailed)
        // The key in the Keychain no longer opens the store (restored backup, reset Keychain).
        case .WrongKey: self.init(.storageFailed)
        case .NotFound: self.init(.notOnDevice)
        case .InvalidInput: self.init(.checkForm)
        case .OutsideMyPlaces: self.init(.outsideMyPlaces)
        case .IllegalTransition: self.init(.moveNotAllowed)
        case .IllegalNeedTransition: self.init(.needMovedOn)
        // The reason is a stable code from the core's role table, never free text.
        case .NotAllowed(_, let reasonCode):
            switch reasonCode {
            case "not_handler": self.init(.notTheHandler)
            case "target": self.init(.dispatchTargetRefused)
            default: self.init(.notYourRole)
            }
        }
    }
}
