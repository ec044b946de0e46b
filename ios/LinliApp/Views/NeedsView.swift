// Needs followed up (需求跟进): two tabs, the open needs (待办诉求) and the follow-ups due
// (到期回访). Each need shows its status, owner and due date; its menu offers the moves the
// state reads from the core, and 转事件, which opens the new incident.

import LinliKit
import SwiftUI

struct NeedsView: View {
    let store: LinliStore
    @StateObject private var state: NeedsState
    @State private var showingDue = false
    @State private var sheet: NeedSheet?
    /// The incident a need just became: opened on top of the list.
    @State private var incident: String?

    init(store: LinliStore) {
        self.store = store
        _state = StateObject(wrappedValue: NeedsState(store: store))
    }

    var body: some View {
        let ui = state.ui
        List {
            Picker("needs.tabs", selection: $showingDue) {
                Text("needs.open \(ui.open.count)").tag(false)
                Text("needs.due \(ui.due.count)").tag(true)
            }
            .pickerStyle(.segmented)
            if let notice = ui.notice {
                NoticeRow(notice: notice)
            }
            if ui.overdueCount > 0 {
                Label("needs.overdue_count \(ui.overdueCount)", systemImage: "exclamationmark.triangle.fill")
                    .foregroundStyle(.red)
            }
            let rows = showingDue ? ui.due : ui.open
            if !ui.loading && rows.isEmpty {
                Text(showingDue ? LocalizedStringKey("needs.none_due") : LocalizedStringKey("needs.none_open"))
                    .foregroundStyle(.secondary)
            }
            ForEach(rows) { row in
                NeedRowView(row: row, loadMoves: { await state.moves(row.id) }) { action in
                    if action == .take {
                        Task { await state.take(row.id) }
                    } else {
                        sheet = NeedSheet(needId: row.id, action: action)
                    }
                } toIncident: {
                    sheet = NeedSheet(needId: row.id, action: nil)
                }
            }
        }
        .overlay {
            if ui.loading { ProgressView() }
        }
        .navigationTitle("tab.needs")
        .refreshable { state.reload() }
        .sheet(item: $sheet) { sheet in
            NavigationStack {
                NeedMoveView(action: sheet.action) { result in
                    Task { await apply(result, to: sheet.needId) }
                }
            }
        }
        .navigationDestination(isPresented: Binding(
            get: { incident != nil },
            set: { if !$0 { incident = nil } })
        ) {
            if let id = incident {
                IncidentDetailView(store: store, incidentId: id)
            }
        }
    }

    private func apply(_ result: NeedMoveResult, to needId: String) async {
        switch result {
        case .done(let note): await state.done(needId, note: note)
        case .reopen(let note): await state.reopen(needId, note: note)
        case .assign(let owner): await state.assign(needId, owner: owner)
        case .reschedule(let dueAt): await state.reschedule(needId, dueAt: dueAt)
        case .toIncident(let category, let priority, let description):
            incident = await state.toIncident(needId, category: category, priority: priority, description: description)
        }
    }
}

/// What the needs screen is asking for: a move's details, or 转事件 (`action` nil).
struct NeedSheet: Identifiable {
    let needId: String
    let action: NeedAction?
    var id: String { needId }
}

/// The details a need's move was given.
enum NeedMoveResult {
    case done(note: String)
    case reopen(note: String)
    case assign(owner: String)
    case reschedule(dueAt: Int64)
    case toIncident(IncidentCategory, Priority, String)
}

struct NeedRowView: View {
    let row: NeedRow
    let loadMoves: () async -> [NeedAction]
    let move: (NeedAction) -> Void
    let toIncident: () -> Void
    @State private var moves: [NeedAction] = []

    init(
        row: NeedRow,
        loadMoves: @escaping () async -> [NeedAction],
        move: @escaping (NeedAction) -> Void,
        toIncident: @escaping () -> Void
    ) {
        self.row = row
        self.loadMoves = loadMoves
        self.move = move
        self.toIncident = toIncident
    }

    var body: some View {
        let need = row.need
        VStack(alignment: .leading, spacing: 4) {
            HStack {
                Text(need.category.label).font(.headline)
                Spacer()
                Text(need.status.label).font(.subheadline)
            }
            Text(verbatim: need.summary).lineLimit(2)
            Text(verbatim: need.address).font(.caption).foregroundStyle(.secondary)
            HStack {
                Text("needs.owner \(need.owner)")
                Spacer()
                Text("needs.due_on \(Date(millis: need.dueAt), format: .dateTime.month().day())")
                    .foregroundStyle(row.overdue ? Color.red : Color.secondary)
            }
            .font(.caption)
            Menu("needs.handle") {
                ForEach(moves.filter { $0 != .other }, id: \.self) { action in
                    Button { move(action) } label: { Text(action.label) }
                }
                // 转事件: the listed needs are open or in hand; the core judges, and a refusal
                // becomes the notice.
                Button("needs.to_incident") { toIncident() }
            }
            .font(.caption)
        }
        .task(id: row) { moves = await loadMoves() }
    }
}

/// The details of one move on a need, or of 转事件 (`action` nil).
struct NeedMoveView: View {
    let action: NeedAction?
    let done: (NeedMoveResult) -> Void
    @Environment(\.dismiss) private var dismiss
    @State private var text = ""
    @State private var due = Date()
    @State private var category: IncidentCategory = .other
    @State private var priority: Priority = .normal

    init(action: NeedAction?, done: @escaping (NeedMoveResult) -> Void) {
        self.action = action
        self.done = done
    }

    var body: some View {
        Form {
            switch action {
            case .none:
                Picker("incident.category", selection: $category) {
                    ForEach(IncidentCategory.all, id: \.self) { Text($0.label).tag($0) }
                }
                Picker("incident.priority", selection: $priority) {
                    ForEach(Priority.all, id: \.self) { Text($0.label).tag($0) }
                }
                TextField("needs.incident_description", text: $text, axis: .vertical)
            case .some(.assign):
                TextField("needs.assign_to", text: $text)
            case .some(.reschedule):
                DatePicker("needs.new_due", selection: $due, displayedComponents: .date)
            default:
                TextField("move.note", text: $text, axis: .vertical)
            }
        }
        .navigationTitle(action.map { $0.label } ?? LocalizedStringKey("needs.to_incident"))
        .toolbar {
            ToolbarItem(placement: .cancellationAction) {
                Button("common.cancel") { dismiss() }
            }
            ToolbarItem(placement: .confirmationAction) {
                Button("common.ok") {
                    if let result { done(result) }
                    dismiss()
                }
                .disabled(result == nil)
            }
        }
    }

    /// The move with its details, or nil while something required is missing.
    private var result: NeedMoveResult? {
        let value = text.trimmingCharacters(in: .whitespaces)
        switch action {
        case .none: return .toIncident(category, priority, value)
        case .some(.assign): return value.isEmpty ? nil : .assign(owner: value)
        case .some(.reschedule): return .reschedule(dueAt: due.millis)
        case .some(.done): return .done(note: value)
        case .some(.reopen): return .reopen(note: value)
        default: return nil
        }
    }
}
