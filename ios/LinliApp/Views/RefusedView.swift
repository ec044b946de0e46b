// Records the server refused (未被接收的记录): each with why, in words, and the two ways out:
// move it to one of my buildings or units (a household's address, an incident's place), or
// discard the phone's own change after a confirmation. Reached from the sync tab.

import LinliKit
import SwiftUI

struct RefusedView: View {
    @ObservedObject var state: RefusedState
    @State private var moving: RefusedDocument?
    @State private var discarding: RefusedDocument?
    @State private var discarded: Discarded?

    init(state: RefusedState) {
        self.state = state
    }

    var body: some View {
        let ui = state.ui
        List {
            if let notice = ui.notice {
                NoticeRow(notice: notice)
            }
            if let discarded {
                Text(discarded.label)
            }
            if !ui.loading && ui.rows.isEmpty {
                Text("refused.none").foregroundStyle(.secondary)
            }
            ForEach(ui.rows, id: \.docId) { row in
                VStack(alignment: .leading, spacing: 6) {
                    HStack {
                        Text(row.kind.label).font(.caption).foregroundStyle(.secondary)
                        Spacer()
                        if ui.busy == row.docId { ProgressView() }
                    }
                    Text(verbatim: row.label).font(.headline)
                    Text(row.outcome.refusalReason).font(.subheadline)
                    // Changed since the refusal: the next sync sends it again.
                    if row.changedSince {
                        Text("refused.changed_since").font(.caption)
                    }
                    HStack {
                        // Moving fixes a record outside the user's places; other refusals are
                        // fixed by editing the record itself, or discarded.
                        if row.outcome == .outOfScope {
                            Button("refused.move") { moving = row }
                        }
                        Spacer()
                        Button("refused.discard", role: .destructive) { discarding = row }
                    }
                    .buttonStyle(.borderless)
                    .disabled(ui.busy != nil)
                }
            }
        }
        .overlay {
            if ui.loading { ProgressView() }
        }
        .navigationTitle("refused.title")
        .confirmationDialog(
            "refused.discard_title",
            isPresented: Binding(get: { discarding != nil }, set: { if !$0 { discarding = nil } }),
            titleVisibility: .visible,
            presenting: discarding
        ) { row in
            Button("refused.discard", role: .destructive) {
                Task { discarded = await state.discard(docId: row.docId) }
            }
            Button("common.cancel", role: .cancel) {}
        } message: { _ in
            Text("refused.discard_confirm")
        }
        .sheet(item: Binding(
            get: { moving.map { RefusedMove(row: $0) } },
            set: { moving = $0?.row })
        ) { move in
            NavigationStack {
                List {
                    if ui.fixPlaces.isEmpty {
                        Text("register.no_places").foregroundStyle(.secondary)
                    }
                    ForEach(ui.fixPlaces, id: \.id) { place in
                        Button(place.name) {
                            moving = nil
                            Task { await state.moveTo(move.row, placeId: place.id) }
                        }
                    }
                }
                .navigationTitle("refused.move")
                .toolbar {
                    ToolbarItem(placement: .cancellationAction) {
                        Button("common.cancel") { moving = nil }
                    }
                }
            }
        }
    }
}

/// The move sheet's item: the refused record being moved.
struct RefusedMove: Identifiable {
    let row: RefusedDocument
    var id: String { row.docId }
}
