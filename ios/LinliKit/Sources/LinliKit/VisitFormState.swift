// Recording a door-knock visit (敲门问需). The core validates; a refused value comes back as
// an error on its field and nothing is written. Mirrors android's VisitFormState.kt.

import Foundation

/// The visit form's fields, by the names the core's validation uses for them.
public enum VisitField: String, Hashable, Sendable, CaseIterable {
    case needs = "need"
    case doneOnSpot = "done_on_spot"
    case time = "at"
}

public struct VisitFormUI: Equatable, Sendable {
    public var purpose: VisitPurpose = .askNeeds
    public var needs: [Need] = []
    public var doneOnSpot = ""
    public var followUp = false
    /// When the visit happened, if not now (a visit entered afterwards), in milliseconds.
    public var at: Int64?
    public var saving = false
    public var errors: [VisitField: FieldError<VisitField>] = [:]
    public var notice: Notice?
    /// Set once saved: the screen closes.
    public var savedVisitId: String?

    public init() {}
}

@MainActor
public final class VisitFormState: ObservableObject {
    @Published public private(set) var ui = VisitFormUI()
    public let householdId: String
    private let store: LinliStore
    private let worker: StoreWorker

    public init(store: LinliStore, householdId: String, worker: StoreWorker = .shared) {
        self.store = store
        self.householdId = householdId
        self.worker = worker
    }

    public func setPurpose(_ purpose: VisitPurpose) { ui.purpose = purpose }

    public func addNeed(_ category: NeedCategory) {
        ui.needs.append(Need(category: category, text: ""))
    }

    public func setNeedText(at index: Int, _ text: String) {
        guard ui.needs.indices.contains(index) else { return }
        ui.needs[index].text = text
        ui.errors[.needs] = nil
    }

    public func removeNeed(at index: Int) {
        guard ui.needs.indices.contains(index) else { return }
        ui.needs.remove(at: index)
        ui.errors[.needs] = nil
    }

    public func setDoneOnSpot(_ text: String) {
        ui.doneOnSpot = text
        ui.errors[.doneOnSpot] = nil
    }

    public func setFollowUp(_ followUp: Bool) { ui.followUp = followUp }

    public func setTime(_ at: Int64?) {
        ui.at = at
        ui.errors[.time] = nil
    }

    /// Saves the visit; true when written.
    @discardableResult
    public func submit() async -> Bool {
        let form = ui
        guard !form.saving, form.savedVisitId == nil else { return false }
        ui.saving = true
        ui.errors = [:]
        ui.notice = nil
        let visit = NewVisit(
            householdId: householdId,
            at: form.at,
            purpose: form.purpose,
            needs: form.needs,
            doneOnSpot: form.doneOnSpot,
            followUp: form.followUp
        )
        let store = self.store
        let result = await LinliKit.submit(worker) { try store.recordVisit(visit: visit) }
        ui.saving = false
        switch result {
        case .saved(let id):
            ui.savedVisitId = id
            return true
        case .refused(let name, let reason):
            if let field = VisitField(rawValue: name) {
                ui.errors = [field: FieldError(field: field, reason: reason)]
            } else {
                ui.notice = Notice(.checkForm)
            }
        case .failed(let notice):
            ui.notice = notice
        }
        return false
    }
}
