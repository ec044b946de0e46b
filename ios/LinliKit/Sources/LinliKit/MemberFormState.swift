// Adding, editing or removing one member of a household (户内成员). The core checks the ID
// number's check character, the phone number and the lengths; a refused value comes back on
// its field with nothing written. Mirrors android's MemberFormState.kt.

import Foundation

public struct MemberFormUI: Equatable, Sendable {
    public var name = ""
    public var relation: Relation = .head
    /// As typed; a year of four digits, or empty.
    public var birthYear = ""
    public var phone = ""
    public var idNumber = ""
    public var gender: Gender?
    /// Per person: 户籍 / 常住 / 流动.
    public var residence: PersonResidence?
    /// The person's own care tags (who is disabled, under community correction, …).
    public var tags: Set<CareTag> = []
    /// Whether the user's role sees phones, ID numbers and sensitive tags (grid workers and
    /// admins). A leader's screen hides them; the form still holds the member's values and
    /// saves them unchanged, so hiding never blanks them. False until `load()`.
    public var showSensitive = false
    public var saving = false
    public var errors: [HouseholdField: FieldError<HouseholdField>] = [:]
    public var notice: Notice?
    /// Set once saved or removed: the screen closes.
    public var done = false

    public init() {}
}

@MainActor
public final class MemberFormState: ObservableObject {
    @Published public private(set) var ui = MemberFormUI()
    public let householdId: String
    private let member: Member?
    private let store: LinliStore
    private let worker: StoreWorker

    public init(store: LinliStore, householdId: String, member: Member?, worker: StoreWorker = .shared) {
        self.store = store
        self.householdId = householdId
        self.member = member
        self.worker = worker
        if let m = member {
            ui.name = m.name
            ui.relation = m.relation
            ui.birthYear = m.birthYear.map { String($0) } ?? ""
            ui.phone = m.phone ?? ""
            ui.idNumber = m.idNumber ?? ""
            ui.gender = m.gender
            ui.residence = m.residence
            ui.tags = Set(m.tags)
        }
    }

    /// Reads whether the user sees sensitive fields (the core's rule, by role).
    public func load() async {
        let store = self.store
        ui.showSensitive = (try? await worker.run { try store.seesSensitive() }) ?? false
    }

    public func setName(_ name: String) {
        ui.name = name
        ui.errors[.memberName] = nil
    }

    public func setRelation(_ relation: Relation) { ui.relation = relation }

    public func setBirthYear(_ year: String) {
        ui.birthYear = year
        ui.errors[.birthYear] = nil
    }

    public func setPhone(_ phone: String) {
        ui.phone = phone
        ui.errors[.phone] = nil
    }

    public func setGender(_ gender: Gender?) { ui.gender = gender }

    public func setResidence(_ residence: PersonResidence?) { ui.residence = residence }

    public func setTag(_ tag: CareTag, _ on: Bool) {
        if on { ui.tags.insert(tag) } else { ui.tags.remove(tag) }
    }

    public func setIdNumber(_ id: String) {
        ui.idNumber = id
        ui.errors[.idNumber] = nil
    }

    /// Saves (adds or edits) the member; true when written.
    @discardableResult
    public func submit() async -> Bool {
        let form = ui
        guard !form.saving, !form.done else { return false }
        let year = form.birthYear.trimmingCharacters(in: .whitespaces)
        let birthYear = year.isEmpty ? nil : Int32(year)
        if !year.isEmpty && birthYear == nil {
            ui.errors = [.birthYear: FieldError(field: .birthYear, reason: "not a year")]
            return false
        }
        ui.saving = true
        ui.errors = [:]
        ui.notice = nil
        let trimmed = { (s: String) -> String? in
            let t = s.trimmingCharacters(in: .whitespaces)
            return t.isEmpty ? nil : t
        }
        let fields = NewMember(
            name: form.name.trimmingCharacters(in: .whitespaces), relation: form.relation,
            birthYear: birthYear, phone: trimmed(form.phone), idNumber: trimmed(form.idNumber))
        let details = MemberDetails(gender: form.gender, residence: form.residence, tags: Array(form.tags))
        let store = self.store
        let householdId = self.householdId
        let memberId = member?.id
        let result = await LinliKit.submit(worker) { () -> Bool in
            let id: String
            if let memberId {
                try store.editMember(householdId: householdId, memberId: memberId, member: fields)
                id = memberId
            } else {
                id = try store.addMember(householdId: householdId, member: fields)
            }
            try store.setMemberDetails(householdId: householdId, memberId: id, details: details)
            return true
        }
        return finish(result)
    }

    /// Records the member's move-out (迁出) on `at` (milliseconds); true when written.
    @discardableResult
    public func moveOut(_ at: Int64) async -> Bool {
        guard let memberId = member?.id, !ui.saving, !ui.done else { return false }
        ui.saving = true
        ui.notice = nil
        let store = self.store
        let householdId = self.householdId
        let result = await LinliKit.submit(worker) { () -> Bool in
            try store.moveOutMember(householdId: householdId, memberId: memberId, at: at)
            return true
        }
        return finish(result)
    }

    /// Removes the member (moved out, deceased, entered by mistake); true when written.
    @discardableResult
    public func remove() async -> Bool {
        guard let memberId = member?.id, !ui.saving, !ui.done else { return false }
        ui.saving = true
        ui.notice = nil
        let store = self.store
        let householdId = self.householdId
        let result = await LinliKit.submit(worker) { () -> Bool in
            try store.removeMember(householdId: householdId, memberId: memberId)
            return true
        }
        return finish(result)
    }

    private func finish(_ result: Submission<Bool>) -> Bool {
        ui.saving = false
        switch result {
        case .saved:
            ui.done = true
            return true
        case .refused(let name, let reason):
            if let field = HouseholdField(rawValue: name) {
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
