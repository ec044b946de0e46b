package cn.linli.app.ui

import androidx.activity.compose.BackHandler
import androidx.compose.foundation.clickable
import androidx.compose.foundation.horizontalScroll
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.FilterChip
import androidx.compose.material3.DropdownMenu
import androidx.compose.material3.ScrollableTabRow
import androidx.compose.material3.Tab
import androidx.compose.material3.DropdownMenuItem
import androidx.compose.material3.ListItem
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
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
import cn.linli.app.state.IncidentField
import cn.linli.app.state.IncidentListState
import cn.linli.app.state.IncidentView
import cn.linli.app.state.IncidentReportState
import cn.linli.app.state.IncidentRow
import cn.linli.app.state.ResponseClock
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import uniffi.linli.IncidentAction
import uniffi.linli.IncidentCategory
import uniffi.linli.LinliStore
import uniffi.linli.Priority

/** The label of a view of the incident list, with its count (`%d`). */
private val IncidentView.label: Int
    get() = when (this) {
        IncidentView.ALL -> R.string.view_all
        IncidentView.ASSIGNED_TO_ME -> R.string.view_assigned_to_me
        IncidentView.ESCALATED -> R.string.view_escalated
        IncidentView.AWAITING_FEEDBACK -> R.string.view_awaiting_feedback
    }

@Composable
fun IncidentsScreen(store: LinliStore, onOpen: (String) -> Unit) {
    val state = rememberScreenState("incidents") { IncidentListState(store, it, Dispatchers.IO) }
    val ui by state.ui.collectAsStateWithLifecycle()
    var reporting by rememberSaveable { mutableStateOf(false) }
    val scope = rememberCoroutineScope()
    if (reporting) {
        BackHandler { reporting = false }
        IncidentReportForm(store, onDone = { reporting = false })
        return
    }
    // The response clocks count down while the list shows.
    LaunchedEffect(state) {
        while (true) {
            state.tick()
            delay(1_000)
        }
    }
    Column(Modifier.fillMaxSize()) {
        Row(Modifier.padding(8.dp), horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            Button(onClick = { reporting = true }) { Text(stringResource(R.string.report_incident)) }
            if (ui.overdueCount > 0) {
                Text(
                    stringResource(R.string.overdue_count, ui.overdueCount),
                    color = MaterialTheme.colorScheme.error,
                    modifier = Modifier.padding(top = 12.dp),
                )
            }
        }
        // The views as tabs: all, assigned to me, escalated, waiting for feedback, with counts.
        ScrollableTabRow(selectedTabIndex = IncidentView.entries.indexOf(ui.view), edgePadding = 8.dp) {
            IncidentView.entries.forEach { view ->
                Tab(
                    selected = ui.view == view,
                    onClick = { state.setView(view) },
                    text = { Text(stringResource(view.label, ui.counts[view] ?: 0)) },
                )
            }
        }
        ui.notice?.let { NoticeText(it) }
        if (!ui.loading && ui.rows.isEmpty()) {
            EmptyText(R.string.no_incidents)
        } else {
            LazyColumn {
                items(ui.rows, key = { it.incident.id }) { row ->
                    IncidentItem(
                        row,
                        onOpen = { onOpen(row.incident.id) },
                        loadMoves = { state.moves(row.incident.id) },
                        onMove = { action -> scope.launch { state.move(row.incident.id, action) } },
                    )
                }
            }
        }
    }
}

@Composable
private fun IncidentItem(
    row: IncidentRow,
    onOpen: () -> Unit,
    loadMoves: suspend () -> List<IncidentAction>,
    onMove: (IncidentAction) -> Unit,
) {
    val incident = row.incident
    val scope = rememberCoroutineScope()
    var menu by remember { mutableStateOf(false) }
    var moves by remember { mutableStateOf(emptyList<IncidentAction>()) }
    ListItem(
        modifier = Modifier.clickable(onClick = onOpen),
        headlineContent = { Text(incident.summary) },
        overlineContent = {
            Text("${stringResource(incident.category.label)} · ${stringResource(incident.status.label)}")
        },
        supportingContent = { ResponseClockText(row.clock) },
        trailingContent = {
            Box {
                TextButton(onClick = { scope.launch { moves = loadMoves(); menu = true } }) {
                    Text(stringResource(R.string.handle))
                }
                // Only the moves the core allows this user now (its role table, the status,
                // the handler); the moves needing details are made from the detail screen.
                DropdownMenu(expanded = menu, onDismissRequest = { menu = false }) {
                    if (moves.isEmpty()) {
                        DropdownMenuItem(text = { Text(stringResource(R.string.incident_no_moves)) }, onClick = { menu = false })
                    }
                    moves.forEach { action ->
                        DropdownMenuItem(
                            text = { Text(stringResource(action.label)) },
                            onClick = { menu = false; onMove(action) },
                        )
                    }
                }
            }
        },
    )
}

@Composable
internal fun ResponseClockText(clock: ResponseClock) {
    when (clock) {
        is ResponseClock.Running -> {
            val seconds = clock.remainingMs / 1_000
            Text(stringResource(R.string.response_remaining, seconds / 60, seconds % 60))
        }
        is ResponseClock.Overdue -> Text(
            stringResource(R.string.response_overdue, clock.lateByMs / 60_000),
            color = MaterialTheme.colorScheme.error,
        )
        ResponseClock.Answered -> Text(stringResource(R.string.response_answered))
        ResponseClock.NotReceived -> Text(stringResource(R.string.response_not_received))
    }
}

/** 网格发现: what, where, how urgent. */
@Composable
private fun IncidentReportForm(store: LinliStore, onDone: () -> Unit) {
    val form = remember { IncidentReportState(store, Dispatchers.IO) }
    val ui by form.ui.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    LaunchedEffect(form) { form.loadPlaces() }
    Column(
        Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp),
        verticalArrangement = Arrangement.spacedBy(8.dp),
    ) {
        Text(stringResource(R.string.incident_category), style = MaterialTheme.typography.titleSmall)
        ChipRow(IncidentCategory.entries, selected = { it == ui.category }, label = { it.label }, onClick = form::setCategory)
        OutlinedTextField(
            value = ui.description,
            onValueChange = form::setDescription,
            label = { Text(stringResource(R.string.incident_description)) },
            isError = IncidentField.DESCRIPTION in ui.errors,
            supportingText = { if (IncidentField.DESCRIPTION in ui.errors) FieldErrorText() },
            minLines = 3,
            modifier = Modifier.fillMaxWidth(),
        )
        Text(stringResource(R.string.incident_place), style = MaterialTheme.typography.titleSmall)
        Row(Modifier.horizontalScroll(rememberScrollState()), horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            ui.places.forEach { place ->
                FilterChip(
                    selected = place.id == ui.placeId,
                    onClick = { form.setPlace(place.id) },
                    label = { Text(place.name) },
                )
            }
        }
        ui.errors[IncidentField.PLACE]?.let { FieldErrorText() }
        Text(stringResource(R.string.incident_priority), style = MaterialTheme.typography.titleSmall)
        ChipRow(Priority.entries, selected = { it == ui.priority }, label = { it.label }, onClick = form::setPriority)
        ui.notice?.let { NoticeText(it) }
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            Button(enabled = !ui.saving, onClick = { scope.launch { if (form.submit()) onDone() } }) {
                Text(stringResource(R.string.report_incident))
            }
            TextButton(onClick = onDone) { Text(stringResource(R.string.cancel)) }
        }
    }
}
