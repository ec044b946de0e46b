// Registering a household (入户登记): its building or unit, room, residency, housing, care tags
// and members. The core validates (ID numbers with their check character, phone numbers,
// lengths); a refused value comes back on its field and nothing is written. A household
// already at the same door is a warning first. Mirrors android's HouseholdFormState.kt.

import Foundation

/// The household and member forms' fields, by the names the core's validation uses.
public enum HouseholdField: String, Hashable, Sendable, CaseIterable {
    case place
    case room
    case notes
    case memberName = "name"
    case idNumber = "id_number"
    case phone
    case birthYear = "birth_year"
    case movedOutAt = "moved_out_at"
}

public struct HouseholdFormUI: Equatable, Sendable {
    /// Buildings and units to pick from (a household lives in one).
    public var places: [Place] = []
    public var placeId: String?
    public var room = ""
    public var residency: Residency = .resident
    public var housing: Housing = .owned
    public var tags: Set<CareTag> = []
    public var notes = ""
    /// Members entered with the household (more can be added later).
    public var members: [NewMember] = []
    /// Households already registered at the chosen place and room (the core's
    /// `householdsAtDoor`): a warning; the first save stops there, a second one saves anyway
    /// (tenants may share a door).
    public var duplicates: [HouseholdSummary] = []
    /// Whether the user's role sees phones, ID numbers and sensitive tags (grid workers and
    /// admins; not building or unit leaders, who enter them write-only). False until loaded.
    public var showSensitive = false
    public var saving = false
    public var errors: [HouseholdField: FieldError<HouseholdField>] = [:]
    public var notice: Notice?
    /// Set once saved: the screen closes.
    public var savedHouseholdId: String?

    public init() {}
}

@MainActor
public final class HouseholdFormState: ObservableObject {
    @Published public private(set) var ui = HouseholdFormUI()
    private let store: LinliStore
    private let worker: StoreWorker
    private var warned: String?

    public init(store: LinliStore, worker: StoreWorker = .shared) {
        self.store = store
        self.worker = worker
    }

    /// Reads the buildings and units to pick from (those of the user's places, `myPlaces`)
    /// and whether the user sees sensitive fields.
    public func loadPlaces() async {
        let store = self.store
        let places = (try? await worker.run {
            try store.myPlaces().filter { $0.kind == .building || $0.kind == .unit }
        }) ?? []
        let sensitive = (try? await worker.run { try store.seesSensitive() }) ?? false
        ui.places = places
        ui.showSensitive = sensitive
    }

    public func setPlace(_ placeId: String?) {
        ui.placeId = placeId
        ui.duplicates = []
        ui.errors[.place] = nil
    }

    public func setRoom(_ room: String) {
        ui.room = room
        ui.duplicates = []
        ui.errors[.room] = nil
    }

    public func setResidency(_ residency: Residency) { ui.residency = residency }

    public func setHousing(_ housing: Housing) { ui.housing = housing }

    public func setTag(_ tag: CareTag, _ on: Bool) {
        if on { ui.tags.insert(tag) } else { ui.tags.remove(tag) }
    }

    public func setNotes(_ notes: String) {
        ui.notes = notes
        ui.errors[.notes] = nil
    }

    public func addMember(_ member: NewMember) { ui.members.append(member) }

    public func removeMember(at index: Int) {
        guard ui.members.indices.contains(index) else { return }
        ui.members.remove(at: index)
    }

    /// Saves the household; true when written. Households already at the same place and room
    /// first fill `duplicates`; calling again with nothing changed saves.
    @discardableResult
    public func submit() async -> Bool {
        let form = ui
        guard !form.saving, form.savedHouseholdId == nil else { return false }
        guard let placeId = form.placeId else {
            ui.errors = [.place: FieldError(field: .place, reason: "required")]
            return false
        }
        ui.saving = true
        ui.errors = [:]
        ui.notice = nil
        let room = form.room.trimmingCharacters(in: .whitespaces)
        let key = "\(placeId)#\(room)"
        if warned != key {
            let same = await sameDoor(placeId, room)
            if !same.isEmpty {
                warned = key
                ui.saving = false
                ui.duplicates = same
                return false
            }
        }
        let household = NewHousehold(
            placeId: placeId, room: room, residency: form.residency, housing: form.housing,
            tags: Array(form.tags), notes: form.notes, members: form.members)
        let store = self.store
        let result = await LinliKit.submit(worker) { try store.createHousehold(household: household) }
        ui.saving = false
        switch result {
        case .saved(let id):
            ui.savedHouseholdId = id
            ui.duplicates = []
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

    /// The households already at `placeId` with `room` (the core's rule; blank rooms never
    /// match). A failed look-up does not block the save: the warning is a courtesy.
    private func sameDoor(_ placeId: String, _ room: String) async -> [HouseholdSummary] {
        let store = self.store
        return (try? await worker.run { try store.householdsAtDoor(placeId: placeId, room: room) }) ?? []
    }
}
