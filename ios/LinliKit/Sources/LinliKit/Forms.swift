// Writing a form through the store: validation stays in the core; this only sorts its answer.

import Foundation

/// A value the core refused, on the form field it belongs to. `reason` is the core's stable
/// reason code (`required`, `too_long`, `check_character`, …); the screen shows a localised
/// hint for it next to `field`.
public struct FieldError<Field: Hashable & Sendable>: Hashable, Sendable {
    public let field: Field
    public let reason: String
}

/// The result of writing a form through the store.
enum Submission<T> {
    case saved(T)
    /// Nothing was written; `field` is the core's name for the refused value.
    case refused(field: String, reason: String)
    case failed(Notice)
}

/// Runs `write` through `worker` and sorts the core's answer.
func submit<T: Sendable>(
    _ worker: StoreWorker, _ write: @escaping @Sendable () throws -> T
) async -> Submission<T> {
    do {
        return .saved(try await worker.run(write))
    } catch LinliError.InvalidInput(let field, let reason) {
        return .refused(field: field, reason: reason)
    } catch LinliError.OutsideMyPlaces(let field) {
        // On the form's place field: the picker offers only the user's places.
        return .refused(field: field, reason: "outside my places")
    } catch {
        return .failed(Notice(error))
    }
}
