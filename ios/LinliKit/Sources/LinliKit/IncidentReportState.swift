// Reporting an incident found in the grid (网格发现); its 15-minute response clock starts on
// save. Mirrors android's IncidentReportState.kt.

import Foundation

/// The incident form's fields, by the names the core's validation uses for them.
public enum IncidentField: String, Hashable, Sendable, CaseIterable {
    case description
    case place
}

public struct IncidentReportUI: Equatable, Sendable {
    public var category: IncidentCategory = .other
    public var description = ""
    public var priority: Priority = .normal
    /// A grid, building or unit; may be left out when `householdId` is set.
    public var placeId: String?
    public var householdId: String?
    /// Grids and buildings of the user's places, to pick `placeId` from.
    public var places: [Place] = []
    public var saving = false
    public var errors: [IncidentField: FieldError<IncidentField>] = [:]
    public var notice: Notice?
    public var reportedId: String?

    public init(placeId: String? = nil, householdId: String? = nil) {
        self.placeId = placeId
        self.householdId = householdId
    }
}

@MainActor
public final class IncidentReportState: ObservableObject {
    @Published public private(set) var ui: IncidentReportUI
    private let store: LinliStore
    private let worker: StoreWorker

    public init(
        store: LinliStore,
        placeId: String? = nil,
        householdId: String? = nil,
        worker: StoreWorker = .shared
    ) {
        self.store = store
        self.worker = worker
        self.ui = IncidentReportUI(placeId: placeId, householdId: householdId)
    }

    /// Reads the places to pick from: the user's places (`myPlaces`: their grants and what is
    /// under them; every place before the first sync brought grants), from the top down to
    /// buildings. A place outside them would be refused on the phone.
    public func loadPlaces() async {
        let store = self.store
        let places = (try? await worker.run { () -> [Place] in
            let mine = try store.myPlaces()
            let ids = Set(mine.map(\.id))
            // The top of each granted subtree has no parent among them.
            let children = Dictionary(grouping: mine) { place in
                place.parentId.flatMap { ids.contains($0) ? $0 : nil }
            }
            var out: [Place] = []
            func walk(_ parentId: String?) {
                for place in children[parentId] ?? [] {
                    // An incident happens at or below a grid (a micro-grid included).
                    if place.kind != .community && place.kind != .street { out.append(place) }
                    if place.kind != .building { walk(place.id) }
                }
            }
            walk(nil)
            return out
        }) ?? []
        ui.places = places
    }

    public func setCategory(_ category: IncidentCategory) { ui.category = category }

    public func setDescription(_ text: String) {
        ui.description = text
        ui.errors[.description] = nil
    }

    public func setPriority(_ priority: Priority) { ui.priority = priority }

    public func setPlace(_ placeId: String?) {
        ui.placeId = placeId
        ui.errors[.place] = nil
    }

    /// Reports the incident; true when written.
    @discardableResult
    public func submit() async -> Bool {
        let form = ui
        guard !form.saving, form.reportedId == nil else { return false }
        ui.saving = true
        ui.errors = [:]
        ui.notice = nil
        let incident = NewIncident(
            category: form.category,
            description: form.description,
            placeId: form.placeId,
            householdId: form.householdId,
            priority: form.priority,
            assignee: nil
        )
        let store = self.store
        let result = await LinliKit.submit(worker) { try store.reportIncident(incident: incident) }
        ui.saving = false
        switch result {
        case .saved(let id):
            ui.reportedId = id
            return true
        case .refused(let name, let reason):
            if let field = IncidentField(rawValue: name) {
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
