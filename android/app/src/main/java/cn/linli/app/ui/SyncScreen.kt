package cn.linli.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.Button
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import cn.linli.app.R
import cn.linli.app.state.SyncScreenState
import kotlinx.coroutines.Dispatchers
import uniffi.linli.LinliStore
import uniffi.linli.SyncSettings

@Composable
fun SyncScreen(store: LinliStore, settings: SyncSettings, onShowRefused: () -> Unit) {
    val state = rememberScreenState("sync") { SyncScreenState(store, settings, it, Dispatchers.IO) }
    val ui by state.ui.collectAsStateWithLifecycle()
    val refused by rememberRefusedState(store).ui.collectAsStateWithLifecycle()
    Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(12.dp)) {
        Text(ui.lastSyncedAt?.let { stringResource(R.string.last_synced, formatTime(it)) }
            ?: stringResource(R.string.never_synced))
        Text(stringResource(R.string.pending_changes, ui.pendingChanges))
        if (ui.running) {
            LinearProgressIndicator(Modifier.fillMaxWidth())
            ui.progress?.let {
                Text(stringResource(R.string.sync_progress, it.rounds.toInt(), it.docsUp.toInt(), it.docsDown.toInt()))
            }
            OutlinedButton(onClick = state::cancel) { Text(stringResource(R.string.cancel)) }
        } else {
            Button(onClick = { state.sync() }) { Text(stringResource(R.string.sync_now)) }
        }
        ui.notice?.let { NoticeText(it) }
        // Records the server refused stay on the phone until fixed or discarded.
        if (refused.rows.isNotEmpty()) {
            OutlinedButton(onClick = onShowRefused) {
                Text(stringResource(R.string.refused_open, refused.rows.size))
            }
        }
    }
}
