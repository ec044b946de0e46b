// The sync button with progress, last synced and pending changes, and the way to the records
// the server refused when there are any.

import LinliKit
import SwiftUI

struct SyncSection: View {
    @ObservedObject var state: SyncScreenState
    @ObservedObject var refused: RefusedState

    var body: some View {
        let ui = state.ui
        Section {
            Button {
                state.sync()
            } label: {
                if ui.running {
                    HStack {
                        ProgressView()
                        Text("sync.running")
                    }
                } else {
                    Label("sync.now", systemImage: "arrow.triangle.2.circlepath")
                }
            }
            .disabled(ui.running)
            if let progress = ui.progress {
                Text("sync.progress \(Int(progress.rounds)) \(Int(progress.docsUp)) \(Int(progress.docsDown))")
                    .font(.caption)
            }
            if let last = ui.lastSyncedAt {
                Text("sync.last \(Date(millis: last), format: .relative(presentation: .named))")
            } else {
                Text("sync.never")
            }
            Text("sync.pending \(ui.pendingChanges)")
            if let notice = ui.notice {
                NoticeRow(notice: notice)
            }
            // Refused records stay on the phone until fixed or discarded.
            if !refused.ui.rows.isEmpty {
                NavigationLink {
                    RefusedView(state: refused)
                } label: {
                    Label("sync.refused \(refused.ui.rows.count)", systemImage: "exclamationmark.arrow.triangle.2.circlepath")
                        .foregroundStyle(.red)
                }
            }
        }
    }
}
