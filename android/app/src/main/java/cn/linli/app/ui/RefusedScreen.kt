package cn.linli.app.ui

import androidx.activity.compose.BackHandler
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.AlertDialog
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.ListItem
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import cn.linli.app.R
import cn.linli.app.state.RefusedState
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import uniffi.linli.Discarded
import uniffi.linli.LinliStore
import uniffi.linli.Place
import uniffi.linli.PushOutcome
import uniffi.linli.RefusedDocument

/** The refused records' state, shared by the sync screen (its count) and the list. */
@Composable
fun rememberRefusedState(store: LinliStore): RefusedState =
    rememberScreenState("refused") { RefusedState(store, it, Dispatchers.IO) }

/**
 * 未同步的记录: each record the server refused, with why in words, and the two ways out: move it
 * to one of my buildings or units (a household's address, an incident's place), or discard the
 * phone's own change after a confirmation.
 */
@Composable
fun RefusedScreen(store: LinliStore, onBack: () -> Unit) {
    val state = rememberRefusedState(store)
    val ui by state.ui.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    var moving by remember { mutableStateOf<RefusedDocument?>(null) }
    var discarding by remember { mutableStateOf<RefusedDocument?>(null) }
    var discarded by remember { mutableStateOf<Discarded?>(null) }
    BackHandler(onBack = onBack)
    moving?.let { row ->
        PlaceDialog(
            places = ui.fixPlaces,
            onPick = { place -> moving = null; scope.launch { state.moveTo(row, place.id) } },
            onDismiss = { moving = null },
        )
    }
    discarding?.let { row ->
        ConfirmDialog(
            title = R.string.discard_title,
            text = R.string.discard_confirm,
            confirm = R.string.discard,
            onConfirm = {
                discarding = null
                scope.launch { discarded = state.discard(row.docId) }
            },
            onDismiss = { discarding = null },
        )
    }
    LazyColumn(Modifier.fillMaxSize().padding(horizontal = 8.dp)) {
        item {
            TextButton(onClick = onBack) { Text(stringResource(R.string.back)) }
            Text(stringResource(R.string.refused_title), style = MaterialTheme.typography.titleLarge)
        }
        ui.notice?.let { item { NoticeText(it) } }
        discarded?.let { item { Text(stringResource(it.label)) } }
        if (!ui.loading && ui.rows.isEmpty()) {
            item { Text(stringResource(R.string.refused_none), Modifier.padding(vertical = 16.dp)) }
        }
        items(ui.rows, key = { it.docId }) { row ->
            RefusedItem(
                row,
                busy = ui.busy == row.docId,
                enabled = ui.busy == null,
                onMove = { moving = row },
                onDiscard = { discarding = row },
            )
        }
    }
}

@Composable
private fun RefusedItem(
    row: RefusedDocument,
    busy: Boolean,
    enabled: Boolean,
    onMove: () -> Unit,
    onDiscard: () -> Unit,
) {
    Column(Modifier.fillMaxWidth().padding(vertical = 4.dp)) {
        ListItem(
            overlineContent = { Text(stringResource(row.kind.label)) },
            headlineContent = { Text(row.label) },
            supportingContent = {
                Column {
                    Text(stringResource(row.outcome.refusalReason))
                    // Changed since the refusal: the next sync sends it again.
                    if (row.changedSince) Text(stringResource(R.string.refused_changed_since))
                }
            },
        )
        if (busy) LinearProgressIndicator(Modifier.fillMaxWidth())
        Row(Modifier.padding(horizontal = 16.dp), horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            // Moving fixes a record outside the user's places; other refusals are fixed by
            // editing the record itself, or discarded.
            if (row.outcome == PushOutcome.OUT_OF_SCOPE) {
                OutlinedButton(enabled = enabled, onClick = onMove) { Text(stringResource(R.string.refused_move)) }
            }
            OutlinedButton(enabled = enabled, onClick = onDiscard) {
                Text(stringResource(R.string.discard), color = MaterialTheme.colorScheme.error)
            }
        }
    }
}

/** One of my buildings or units, to move a refused record into. */
@Composable
private fun PlaceDialog(places: List<Place>, onPick: (Place) -> Unit, onDismiss: () -> Unit) {
    AlertDialog(
        onDismissRequest = onDismiss,
        title = { Text(stringResource(R.string.refused_move)) },
        text = {
            Column(Modifier.verticalScroll(rememberScrollState())) {
                if (places.isEmpty()) Text(stringResource(R.string.no_places_yet))
                places.forEach { place ->
                    TextButton(onClick = { onPick(place) }) { Text(place.name) }
                }
            }
        },
        confirmButton = {},
        dismissButton = { TextButton(onClick = onDismiss) { Text(stringResource(R.string.cancel)) } },
    )
}
