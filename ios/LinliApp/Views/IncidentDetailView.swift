// One incident: its facts, the response clock, the moves this user may make now (exactly the
// state's `moves`, from the core's role table), each with an optional note, and the timeline
// with who did what. Resident feedback (回访) is the feedback move: a rating and a comment.

import Combine
import LinliKit
import SwiftUI

struct IncidentDetailView: View {
    @StateObject private var state: IncidentDetailState
    @State private var making: IncidentAction?
    private let ticks = Timer.publish(every: 1, on: .main, in: .common).autoconnect()

    init(store: LinliStore, incidentId: String) {
        _state = StateObject(wrappedValue: IncidentDetailState(store: store, incidentId: incidentId))
    }

    var body: some View {
        let ui = state.ui
        List {
            if let notice = ui.notice {
                NoticeRow(notice: notice)
            }
            if let incident = ui.incident {
                Section {
                    IncidentFactsView(incident: incident)
                    ResponseClockView(clock: ui.clock)
                }
                Section("incident.moves") {
                    if ui.moves.isEmpty {
                        Text("incident.no_moves").foregroundStyle(.secondary)
                    }
                    // Only what the core offers this user now; `other` is never a move to make.
                    ForEach(ui.moves.filter { $0 != .other }, id: \.self) { action in
                        Button { making = action } label: { Text(action.label) }
                    }
                }
                Section("incident.timeline") {
                    ForEach(ui.timeline, id: \.event.id) { entry in
                        TimelineRowView(entry: entry)
                    }
                }
            }
        }
        .overlay {
            if ui.loading { ProgressView() }
        }
        .navigationTitle(ui.incident.map { $0.category.label } ?? "")
        .onReceive(ticks) { _ in state.tick() }
        .sheet(item: Binding(
            get: { making.map { MoveSheet(action: $0) } },
            set: { making = $0?.action })
        ) { sheet in
            NavigationStack {
                MoveFormView(action: sheet.action, category: ui.incident?.category ?? .other) { detail in
                    Task { await state.move(sheet.action, detail: detail) }
                } dispatch: { to, department, note in
                    Task { await state.dispatch(to: to, department: department, note: note) }
                }
            }
        }
    }
}

/// The move sheet's item (uniffi's enums are not Identifiable).
struct MoveSheet: Identifiable {
    let action: IncidentAction
    var id: IncidentAction { action }
}

struct IncidentFactsView: View {
    let incident: Incident

    var body: some View {
        VStack(alignment: .leading, spacing: 4) {
            HStack {
                Text(incident.category.label).font(.headline)
                Spacer()
                Text(incident.status.label)
            }
            Text(incident.description)
            HStack {
                Text(incident.priority.label)
                Text(incident.level.label)
            }
            .font(.caption)
            Text("incident.reported_at \(Date(millis: incident.reportedAt), format: .dateTime.month().day().hour().minute())")
                .font(.caption)
            if let received = incident.receivedAt {
                Text("incident.received_at \(Date(millis: received), format: .dateTime.month().day().hour().minute())")
                    .font(.caption)
            }
            if let assignee = incident.assignee {
                Text("incident.assignee \(assignee)").font(.caption)
            }
            if let department = incident.department {
                HStack {
                    Text("incident.department")
                    Text(department.label)
                }
                .font(.caption)
            }
            if let dispute = incident.dispute {
                Text("incident.dispute_parties \(dispute.parties)").font(.caption)
            }
        }
    }
}

/// One event: what was done, by whom, when, and what came with it.
struct TimelineRowView: View {
    let entry: TimelineEntry

    var body: some View {
        let event = entry.event
        VStack(alignment: .leading, spacing: 2) {
            HStack {
                Text(event.action.label).font(.headline)
                Spacer()
                Text(Date(millis: event.at), format: .dateTime.month().day().hour().minute())
                    .foregroundStyle(.secondary)
            }
            Text(verbatim: entry.byName ?? event.by).font(.caption)
            HStack(spacing: 6) {
                if let department = event.department { Text(department.label) }
                if let to = event.to { Text("timeline.to \(to)") }
                if let reason = event.reason { Text(reason.label) }
                if let rating = event.rating { Text(rating.label) }
                if let level = event.level { Text(level.label) }
                if let outcome = event.outcome { Text(outcome.label) }
            }
            .font(.caption)
            if !event.note.isEmpty {
                Text(verbatim: event.note).font(.caption)
            }
        }
    }
}

/// The details of one move. What each move needs is the core's rule: a return its reason,
/// feedback its rating, an escalation its level, a dispute's resolution its outcome, a
/// dispatch a person or a department; close, return and reopen a note. The form asks for
/// exactly those, and the core still judges.
struct MoveFormView: View {
    let action: IncidentAction
    let category: IncidentCategory
    let move: (MoveDetail) -> Void
    let dispatch: (String?, Department?, String) -> Void
    @Environment(\.dismiss) private var dismiss
    @State private var note = ""
    @State private var reason: ReturnReason?
    @State private var rating: Rating?
    @State private var level: Level?
    @State private var outcome: DisputeOutcome?
    @State private var department: Department?
    @State private var to = ""

    init(
        action: IncidentAction,
        category: IncidentCategory,
        move: @escaping (MoveDetail) -> Void,
        dispatch: @escaping (String?, Department?, String) -> Void
    ) {
        self.action = action
        self.category = category
        self.move = move
        self.dispatch = dispatch
    }

    private var needsOutcome: Bool { action == .resolve && category == .dispute }
    private var noteRequired: Bool { action == .close || action == .return || action == .reopen }

    private var ready: Bool {
        let details: Bool
        switch action {
        case .return: details = reason != nil
        case .feedback: details = rating != nil
        case .escalate: details = level != nil
        case .dispatch: details = department != nil || !to.trimmingCharacters(in: .whitespaces).isEmpty
        default: details = !needsOutcome || outcome != nil
        }
        return details && (!noteRequired || !note.trimmingCharacters(in: .whitespaces).isEmpty)
    }

    var body: some View {
        Form {
            switch action {
            case .return:
                Picker("move.reason", selection: $reason) {
                    Text("move.pick").tag(ReturnReason?.none)
                    ForEach(ReturnReason.all, id: \.self) { Text($0.label).tag(ReturnReason?.some($0)) }
                }
            case .feedback:
                Picker("feedback.rating", selection: $rating) {
                    Text("move.pick").tag(Rating?.none)
                    ForEach(Rating.all, id: \.self) { Text($0.label).tag(Rating?.some($0)) }
                }
            case .escalate:
                Picker("move.level", selection: $level) {
                    Text("move.pick").tag(Level?.none)
                    ForEach(Level.above, id: \.self) { Text($0.label).tag(Level?.some($0)) }
                }
            case .dispatch:
                Picker("move.department", selection: $department) {
                    Text("move.pick").tag(Department?.none)
                    ForEach(Department.all, id: \.self) { Text($0.label).tag(Department?.some($0)) }
                }
                TextField("move.to_person", text: $to)
            default:
                if needsOutcome {
                    Picker("move.outcome", selection: $outcome) {
                        Text("move.pick").tag(DisputeOutcome?.none)
                        ForEach(DisputeOutcome.all, id: \.self) { Text($0.label).tag(DisputeOutcome?.some($0)) }
                    }
                }
            }
            Section(noteTitle) {
                TextField(noteTitle, text: $note, axis: .vertical)
                    .lineLimit(2...6)
            }
        }
        .navigationTitle(action == .feedback ? LocalizedStringKey("feedback.title") : action.label)
        .toolbar {
            ToolbarItem(placement: .cancellationAction) {
                Button("common.cancel") { dismiss() }
            }
            ToolbarItem(placement: .confirmationAction) {
                Button {
                    let text = note.trimmingCharacters(in: .whitespaces)
                    if action == .dispatch {
                        let person = to.trimmingCharacters(in: .whitespaces)
                        dispatch(person.isEmpty ? nil : person, department, text)
                    } else {
                        move(MoveDetail(
                            note: text, to: nil, department: nil, reason: reason, rating: rating,
                            level: level, outcome: needsOutcome ? outcome : nil))
                    }
                    dismiss()
                } label: {
                    Text(action.label)
                }
                .disabled(!ready)
            }
        }
    }

    private var noteTitle: LocalizedStringKey {
        if action == .feedback { return "feedback.comment" }
        return noteRequired ? "move.note_required" : "move.note"
    }
}
