package cn.linli.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.AlertDialog
import androidx.compose.material3.DropdownMenu
import androidx.compose.material3.DropdownMenuItem
import androidx.compose.material3.ListItem
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Tab
import androidx.compose.material3.TabRow
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import cn.linli.app.R
import cn.linli.app.state.NeedRow
import cn.linli.app.state.NeedsState
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import uniffi.linli.IncidentCategory
import uniffi.linli.LinliStore
import uniffi.linli.NeedAction
import uniffi.linli.Priority

/** What the needs screen is asking for: a move's details, or 转事件 ([action] null). */
private data class NeedDialog(val needId: String, val action: NeedAction?)

/**
 * 需求跟进: two tabs, the open needs (待办诉求) and the follow-ups due (到期回访). Each need
 * shows its status, owner and due date; its menu offers the moves the state reads from the
 * core, and 转事件, which opens the new incident ([onIncident]).
 */
@Composable
fun NeedsScreen(store: LinliStore, onIncident: (String) -> Unit) {
    val state = rememberScreenState("needs") { NeedsState(store, it, Dispatchers.IO) }
    val ui by state.ui.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    var tab by rememberSaveable { mutableStateOf(0) }
    var dialog by remember { mutableStateOf<NeedDialog?>(null) }
    dialog?.let { d ->
        val close = { dialog = null }
        when (d.action) {
            null -> ToIncidentDialog(
                onDismiss = close,
                onConfirm = { category, priority, description ->
                    close()
                    scope.launch { state.toIncident(d.needId, category, priority, description)?.let(onIncident) }
                },
            )
            NeedAction.RESCHEDULE -> DateDialog(
                initial = System.currentTimeMillis(),
                onPick = { at -> close(); scope.launch { state.reschedule(d.needId, at) } },
                onDismiss = close,
            )
            NeedAction.ASSIGN -> TextDialog(
                title = R.string.need_action_assign,
                label = R.string.need_assign_to,
                required = true,
                onDismiss = close,
                onConfirm = { owner -> close(); scope.launch { state.assign(d.needId, owner) } },
            )
            NeedAction.DONE -> TextDialog(
                title = R.string.need_action_done,
                label = R.string.move_note,
                required = false,
                onDismiss = close,
                onConfirm = { note -> close(); scope.launch { state.done(d.needId, note) } },
            )
            NeedAction.REOPEN -> TextDialog(
                title = R.string.need_action_reopen,
                label = R.string.move_note,
                required = false,
                onDismiss = close,
                onConfirm = { note -> close(); scope.launch { state.reopen(d.needId, note) } },
            )
            // Take needs no details (made straight from the menu); the rest are never offered.
            else -> Unit
        }
    }
    Column(Modifier.fillMaxSize()) {
        TabRow(selectedTabIndex = tab) {
            Tab(
                selected = tab == 0,
                onClick = { tab = 0 },
                text = { Text(stringResource(R.string.needs_open, ui.open.size)) },
            )
            Tab(
                selected = tab == 1,
                onClick = { tab = 1 },
                text = { Text(stringResource(R.string.needs_due, ui.due.size)) },
            )
        }
        if (ui.overdueCount > 0) {
            Text(
                stringResource(R.string.needs_overdue_count, ui.overdueCount),
                color = MaterialTheme.colorScheme.error,
            )
        }
        ui.notice?.let { NoticeText(it) }
        val rows = if (tab == 0) ui.open else ui.due
        if (!ui.loading && rows.isEmpty()) {
            EmptyText(if (tab == 0) R.string.no_open_needs else R.string.no_needs_due)
        } else {
            LazyColumn {
                items(rows, key = { it.need.id }) { row ->
                    NeedItem(
                        row,
                        loadMoves = { state.moves(row.need.id) },
                        onMove = { action ->
                            if (action == NeedAction.TAKE) {
                                scope.launch { state.take(row.need.id) }
                            } else {
                                dialog = NeedDialog(row.need.id, action)
                            }
                        },
                        onToIncident = { dialog = NeedDialog(row.need.id, null) },
                    )
                }
            }
        }
    }
}

@Composable
private fun NeedItem(
    row: NeedRow,
    loadMoves: suspend () -> List<NeedAction>,
    onMove: (NeedAction) -> Unit,
    onToIncident: () -> Unit,
) {
    val need = row.need
    val scope = rememberCoroutineScope()
    var menu by remember { mutableStateOf(false) }
    var moves by remember { mutableStateOf(emptyList<NeedAction>()) }
    ListItem(
        overlineContent = {
            Text("${stringResource(need.category.label)} · ${stringResource(need.status.label)}")
        },
        headlineContent = { Text(need.summary) },
        supportingContent = {
            Column {
                Text(need.address)
                Text(stringResource(R.string.need_owner, need.owner))
                Text(
                    stringResource(
                        if (row.overdue) R.string.need_overdue_since else R.string.need_due_on,
                        formatDate(need.dueAt),
                    ),
                    color = if (row.overdue) MaterialTheme.colorScheme.error else MaterialTheme.colorScheme.onSurfaceVariant,
                )
            }
        },
        trailingContent = {
            Box {
                TextButton(onClick = { scope.launch { moves = loadMoves(); menu = true } }) {
                    Text(stringResource(R.string.handle))
                }
                DropdownMenu(expanded = menu, onDismissRequest = { menu = false }) {
                    moves.filter { it != NeedAction.OTHER }.forEach { action ->
                        DropdownMenuItem(
                            text = { Text(stringResource(action.label)) },
                            onClick = { menu = false; onMove(action) },
                        )
                    }
                    // 转事件: the listed needs are open or in hand, which may always be referred;
                    // the core judges, and a refusal becomes the notice.
                    DropdownMenuItem(
                        text = { Text(stringResource(R.string.need_to_incident)) },
                        onClick = { menu = false; onToIncident() },
                    )
                }
            }
        },
    )
}

/** One line of text for a move: a note (optional) or an owner's user id (required). */
@Composable
private fun TextDialog(title: Int, label: Int, required: Boolean, onDismiss: () -> Unit, onConfirm: (String) -> Unit) {
    var text by rememberSaveable { mutableStateOf("") }
    AlertDialog(
        onDismissRequest = onDismiss,
        title = { Text(stringResource(title)) },
        text = {
            OutlinedTextField(value = text, onValueChange = { text = it }, label = { Text(stringResource(label)) })
        },
        confirmButton = {
            TextButton(enabled = !required || text.isNotBlank(), onClick = { onConfirm(text.trim()) }) {
                Text(stringResource(R.string.ok))
            }
        },
        dismissButton = { TextButton(onClick = onDismiss) { Text(stringResource(R.string.cancel)) } },
    )
}

/** 转事件: the incident's category and urgency; an empty description takes the need's text. */
@Composable
private fun ToIncidentDialog(onDismiss: () -> Unit, onConfirm: (IncidentCategory, Priority, String) -> Unit) {
    var category by rememberSaveable { mutableStateOf(IncidentCategory.OTHER) }
    var priority by rememberSaveable { mutableStateOf(Priority.NORMAL) }
    var description by rememberSaveable { mutableStateOf("") }
    AlertDialog(
        onDismissRequest = onDismiss,
        title = { Text(stringResource(R.string.need_to_incident)) },
        text = {
            Column(Modifier.verticalScroll(rememberScrollState()), verticalArrangement = Arrangement.spacedBy(8.dp)) {
                Text(stringResource(R.string.incident_category), style = MaterialTheme.typography.titleSmall)
                ChipRow(IncidentCategory.entries, selected = { it == category }, label = { it.label }, onClick = { category = it })
                Text(stringResource(R.string.incident_priority), style = MaterialTheme.typography.titleSmall)
                ChipRow(Priority.entries, selected = { it == priority }, label = { it.label }, onClick = { priority = it })
                OutlinedTextField(
                    value = description,
                    onValueChange = { description = it },
                    label = { Text(stringResource(R.string.need_incident_description)) },
                    minLines = 2,
                )
            }
        },
        confirmButton = {
            TextButton(onClick = { onConfirm(category, priority, description.trim()) }) {
                Text(stringResource(R.string.need_to_incident))
            }
        },
        dismissButton = { TextButton(onClick = onDismiss) { Text(stringResource(R.string.cancel)) } },
    )
}
