package cn.linli.app.ui

import androidx.activity.compose.BackHandler
import androidx.compose.foundation.horizontalScroll
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.AlertDialog
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.ListItem
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import cn.linli.app.R
import cn.linli.app.state.IncidentDetailState
import cn.linli.app.state.TimelineEntry
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import uniffi.linli.Department
import uniffi.linli.DisputeOutcome
import uniffi.linli.Incident
import uniffi.linli.IncidentAction
import uniffi.linli.IncidentCategory
import uniffi.linli.Level
import uniffi.linli.LinliStore
import uniffi.linli.MoveDetail
import uniffi.linli.Rating
import uniffi.linli.ReturnReason

/**
 * One incident: its facts, the response clock, the moves this user may make now (exactly the
 * state's `moves`, from the core's role table), each with an optional note, and the timeline
 * with who did what. Resident feedback (回访) is the feedback move: a rating and a comment.
 */
@Composable
fun IncidentDetailScreen(store: LinliStore, incidentId: String, onBack: () -> Unit) {
    val state = rememberScreenState("incident-$incidentId") {
        IncidentDetailState(incidentId, store, it, Dispatchers.IO)
    }
    val ui by state.ui.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    var making by rememberSaveable { mutableStateOf<IncidentAction?>(null) }
    BackHandler(onBack = onBack)
    LaunchedEffect(state) {
        while (true) {
            state.tick()
            delay(1_000)
        }
    }
    val incident = ui.incident
    making?.let { action ->
        if (incident != null) {
            MoveDialog(
                action = action,
                category = incident.category,
                onDismiss = { making = null },
                onMove = { detail ->
                    making = null
                    scope.launch { state.move(action, detail) }
                },
                onDispatch = { to, department, note ->
                    making = null
                    scope.launch { state.dispatch(to, department, note) }
                },
            )
        }
    }
    LazyColumn(Modifier.fillMaxSize().padding(horizontal = 8.dp)) {
        item { TextButton(onClick = onBack) { Text(stringResource(R.string.back)) } }
        ui.notice?.let { item { NoticeText(it) } }
        if (incident == null) {
            if (ui.loading) item { CircularProgressIndicator(Modifier.padding(16.dp)) }
            return@LazyColumn
        }
        item { IncidentFacts(incident) }
        item { ResponseClockText(ui.clock) }
        item {
            Text(stringResource(R.string.incident_moves), style = MaterialTheme.typography.titleMedium)
            if (ui.moves.isEmpty()) Text(stringResource(R.string.incident_no_moves))
            Row(
                Modifier.horizontalScroll(rememberScrollState()).padding(vertical = 4.dp),
                horizontalArrangement = Arrangement.spacedBy(8.dp),
            ) {
                // Only what the core offers this user now; OTHER is never a move to make.
                ui.moves.filter { it != IncidentAction.OTHER }.forEach { action ->
                    OutlinedButton(onClick = { making = action }) { Text(stringResource(action.label)) }
                }
            }
            Text(stringResource(R.string.incident_timeline), style = MaterialTheme.typography.titleMedium)
        }
        items(ui.timeline, key = { it.event.id }) { entry -> TimelineItem(entry) }
    }
}

@Composable
private fun IncidentFacts(incident: Incident) {
    Column(verticalArrangement = Arrangement.spacedBy(4.dp)) {
        Text(
            "${stringResource(incident.category.label)} · ${stringResource(incident.status.label)}",
            style = MaterialTheme.typography.headlineSmall,
        )
        Text(incident.description)
        Text(
            listOf(incident.priority.label, incident.level.label).map { stringResource(it) }.joinToString(" · "),
        )
        Text(stringResource(R.string.incident_reported_at, formatTime(incident.reportedAt)))
        incident.receivedAt?.let { Text(stringResource(R.string.incident_received_at, formatTime(it))) }
        incident.assignee?.let { Text(stringResource(R.string.incident_assignee, it)) }
        incident.department?.let { Text(stringResource(R.string.incident_department, stringResource(it.label))) }
        incident.dispute?.let { Text(stringResource(R.string.incident_dispute_parties, it.parties)) }
    }
}

/** One event: what was done, by whom, when, and what came with it (note, reason, rating, …). */
@Composable
private fun TimelineItem(entry: TimelineEntry) {
    val event = entry.event
    val details = listOfNotNull(
        event.department?.let { stringResource(it.label) },
        event.to?.let { stringResource(R.string.timeline_to, it) },
        event.reason?.let { stringResource(it.label) },
        event.rating?.let { stringResource(it.label) },
        event.level?.let { stringResource(it.label) },
        event.outcome?.let { stringResource(it.label) },
        event.note.takeIf { it.isNotBlank() },
    )
    ListItem(
        headlineContent = { Text(stringResource(event.action.label)) },
        overlineContent = { Text("${entry.byName ?: event.by} · ${formatTime(event.at)}") },
        supportingContent = { if (details.isNotEmpty()) Text(details.joinToString(" · ")) },
    )
}

/**
 * The details of one move. What each move needs is the core's rule (MoveDetail.validate):
 * a return its reason, feedback its rating, an escalation its level, a dispute's resolution
 * its outcome, a dispatch a person or a department; close, return and reopen a note. The
 * dialog asks for exactly those, and the core still judges.
 */
@Composable
private fun MoveDialog(
    action: IncidentAction,
    category: IncidentCategory,
    onDismiss: () -> Unit,
    onMove: (MoveDetail) -> Unit,
    onDispatch: (String?, Department?, String) -> Unit,
) {
    var note by rememberSaveable { mutableStateOf("") }
    var reason by rememberSaveable { mutableStateOf<ReturnReason?>(null) }
    var rating by rememberSaveable { mutableStateOf<Rating?>(null) }
    var level by rememberSaveable { mutableStateOf<Level?>(null) }
    var outcome by rememberSaveable { mutableStateOf<DisputeOutcome?>(null) }
    var department by rememberSaveable { mutableStateOf<Department?>(null) }
    var to by rememberSaveable { mutableStateOf("") }
    val needsOutcome = action == IncidentAction.RESOLVE && category == IncidentCategory.DISPUTE
    val noteRequired = action in setOf(IncidentAction.CLOSE, IncidentAction.RETURN, IncidentAction.REOPEN)
    val ready = when (action) {
        IncidentAction.RETURN -> reason != null
        IncidentAction.FEEDBACK -> rating != null
        IncidentAction.ESCALATE -> level != null
        IncidentAction.DISPATCH -> department != null || to.isNotBlank()
        else -> !needsOutcome || outcome != null
    } && (!noteRequired || note.isNotBlank())
    AlertDialog(
        onDismissRequest = onDismiss,
        title = {
            Text(stringResource(if (action == IncidentAction.FEEDBACK) R.string.feedback_title else action.label))
        },
        text = {
            Column(Modifier.verticalScroll(rememberScrollState()), verticalArrangement = Arrangement.spacedBy(8.dp)) {
                when (action) {
                    IncidentAction.RETURN ->
                        ChipRow(ReturnReason.entries, selected = { it == reason }, label = { it.label }, onClick = { reason = it })
                    IncidentAction.FEEDBACK ->
                        ChipRow(Rating.entries, selected = { it == rating }, label = { it.label }, onClick = { rating = it })
                    // Grid is where an incident starts: escalation goes above it.
                    IncidentAction.ESCALATE -> ChipRow(
                        Level.entries.filter { it != Level.GRID },
                        selected = { it == level },
                        label = { it.label },
                        onClick = { level = it },
                    )
                    IncidentAction.DISPATCH -> {
                        ChipRow(
                            Department.entries,
                            selected = { it == department },
                            label = { it.label },
                            onClick = { department = if (it == department) null else it },
                        )
                        OutlinedTextField(
                            value = to,
                            onValueChange = { to = it },
                            label = { Text(stringResource(R.string.dispatch_to_person)) },
                            singleLine = true,
                        )
                    }
                    else -> if (needsOutcome) {
                        ChipRow(DisputeOutcome.entries, selected = { it == outcome }, label = { it.label }, onClick = { outcome = it })
                    }
                }
                OutlinedTextField(
                    value = note,
                    onValueChange = { note = it },
                    label = {
                        Text(
                            stringResource(
                                when {
                                    action == IncidentAction.FEEDBACK -> R.string.feedback_comment
                                    noteRequired -> R.string.move_note_required
                                    else -> R.string.move_note
                                },
                            ),
                        )
                    },
                    minLines = 2,
                )
            }
        },
        confirmButton = {
            TextButton(
                enabled = ready,
                onClick = {
                    if (action == IncidentAction.DISPATCH) {
                        onDispatch(to.trim().ifEmpty { null }, department, note.trim())
                    } else {
                        onMove(
                            MoveDetail(
                                note = note.trim(),
                                reason = reason,
                                rating = rating,
                                level = level,
                                outcome = outcome.takeIf { needsOutcome },
                            ),
                        )
                    }
                },
            ) { Text(stringResource(action.label)) }
        },
        dismissButton = { TextButton(onClick = onDismiss) { Text(stringResource(R.string.cancel)) } },
    )
}
