package cn.linli.app.ui

import androidx.activity.compose.BackHandler
import androidx.compose.foundation.clickable
import androidx.compose.foundation.horizontalScroll
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
import androidx.compose.material3.AssistChip
import androidx.compose.material3.Button
import androidx.compose.material3.FilterChip
import androidx.compose.material3.ListItem
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Switch
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import cn.linli.app.R
import cn.linli.app.state.HouseholdDetailState
import cn.linli.app.state.HouseholdListState
import cn.linli.app.state.HouseholdRow
import cn.linli.app.state.VisitField
import cn.linli.app.state.VisitFormState
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import uniffi.linli.CareTag
import uniffi.linli.LinliStore
import uniffi.linli.Member
import uniffi.linli.NeedCategory
import uniffi.linli.VisitPurpose

@Composable
fun HouseholdListScreen(store: LinliStore, onOpen: (String) -> Unit, onRegister: () -> Unit) {
    val state = rememberScreenState("households") { HouseholdListState(store, it, Dispatchers.IO) }
    val ui by state.ui.collectAsStateWithLifecycle()
    BackHandler(enabled = ui.path.size > 1) { state.up() }
    Column(Modifier.fillMaxSize()) {
        OutlinedTextField(
            value = ui.query,
            onValueChange = state::search,
            label = { Text(stringResource(R.string.search_households)) },
            singleLine = true,
            modifier = Modifier.fillMaxWidth().padding(8.dp),
        )
        Text(
            ui.path.joinToString(" › ") { it.name },
            style = MaterialTheme.typography.labelLarge,
            modifier = Modifier.padding(horizontal = 8.dp),
        )
        Row(
            Modifier.horizontalScroll(rememberScrollState()).padding(horizontal = 8.dp),
            horizontalArrangement = Arrangement.spacedBy(8.dp),
        ) {
            AssistChip(onClick = onRegister, label = { Text(stringResource(R.string.register_household)) })
            FilterChip(
                selected = ui.onlyDue,
                onClick = { state.showOnlyDue(!ui.onlyDue) },
                label = { Text(stringResource(R.string.only_due, ui.dueCount)) },
            )
            ui.subPlaces.forEach { place ->
                AssistChip(onClick = { state.open(place) }, label = { Text(place.name) })
            }
        }
        ui.notice?.let { NoticeText(it) }
        when {
            ui.needsFirstSync -> EmptyText(R.string.needs_first_sync)
            !ui.loading && ui.rows.isEmpty() -> EmptyText(R.string.no_households)
            else -> LazyColumn {
                items(ui.rows, key = { it.household.id }) { row ->
                    HouseholdItem(row, onClick = { onOpen(row.household.id) })
                }
            }
        }
    }
}

@Composable
private fun HouseholdItem(row: HouseholdRow, onClick: () -> Unit) {
    val household = row.household
    val tags = household.tags.map { stringResource(it.label) }
    ListItem(
        headlineContent = { Text(household.headName ?: household.room) },
        supportingContent = { Text((listOf(household.address) + tags).joinToString(" · ")) },
        trailingContent = {
            if (row.dueForVisit) {
                Text(stringResource(R.string.due_for_visit), color = MaterialTheme.colorScheme.error)
            }
        },
        modifier = Modifier.clickable(onClick = onClick),
    )
}

@Composable
fun HouseholdDetailScreen(store: LinliStore, householdId: String, onBack: () -> Unit) {
    val state = rememberScreenState("household-$householdId") {
        HouseholdDetailState(store, householdId, it, Dispatchers.IO)
    }
    val ui by state.ui.collectAsStateWithLifecycle()
    var recording by rememberSaveable { mutableStateOf(false) }
    // The member form: a member's id, NEW_MEMBER to add one, null when closed.
    var memberForm by rememberSaveable { mutableStateOf<String?>(null) }
    if (recording) {
        BackHandler { recording = false }
        VisitForm(store, householdId, onDone = { recording = false })
        return
    }
    val id = memberForm
    if (id != null) {
        BackHandler { memberForm = null }
        // Looked up once the household is loaded, and kept: a removal reloads the household
        // without the member while the form is still closing.
        val member = remember(id, ui.household != null) { ui.household?.members?.firstOrNull { it.id == id } }
        // After a restart the household may still be loading: an edit waits for its member.
        if (id != NEW_MEMBER && member == null) {
            LoadingScreen()
        } else {
            MemberFormScreen(store, householdId, member, onDone = { memberForm = null })
        }
        return
    }
    BackHandler(onBack = onBack)
    // Sensitive values (ID number, phone, correction/rehab and disability) only for roles
    // that may see them; a leader's screen leaves them out.
    val shown = { tags: List<CareTag> -> tags.filter { ui.showSensitive || !it.sensitive } }
    LazyColumn(Modifier.fillMaxSize().padding(horizontal = 8.dp)) {
        item { TextButton(onClick = onBack) { Text(stringResource(R.string.back)) } }
        ui.notice?.let { item { NoticeText(it) } }
        val household = ui.household ?: return@LazyColumn
        val current = household.members.filter { it.movedOutAt == null }
        val former = household.members.filter { it.movedOutAt != null }
        item {
            Text(household.address.room, style = MaterialTheme.typography.headlineSmall)
            Text(
                (listOf(household.residency.label, household.housing.label) + shown(household.tags).map { it.label })
                    .map { stringResource(it) }
                    .joinToString(" · "),
            )
            if (ui.dueForVisit) Text(stringResource(R.string.due_for_visit), color = MaterialTheme.colorScheme.error)
            if (household.notes.isNotBlank()) Text(household.notes)
            Text(stringResource(R.string.household_members), style = MaterialTheme.typography.titleMedium)
        }
        items(current, key = { it.id }) { member ->
            ListItem(
                headlineContent = { Text(member.name) },
                supportingContent = { Text(memberLine(member, shown(member.tags))) },
                trailingContent = { member.phone?.takeIf { ui.showSensitive }?.let { Text(it) } },
                modifier = Modifier.clickable { memberForm = member.id },
            )
        }
        item {
            OutlinedButton(onClick = { memberForm = NEW_MEMBER }) { Text(stringResource(R.string.add_member)) }
        }
        if (former.isNotEmpty()) {
            item { Text(stringResource(R.string.former_members), style = MaterialTheme.typography.titleMedium) }
            items(former, key = { it.id }) { member ->
                ListItem(
                    headlineContent = { Text(member.name) },
                    supportingContent = { Text(stringResource(member.relation.label)) },
                    trailingContent = {
                        member.movedOutAt?.let { Text(stringResource(R.string.moved_out_on, formatDate(it))) }
                    },
                    modifier = Modifier.clickable { memberForm = member.id },
                )
            }
        }
        item {
            Button(onClick = { recording = true }, modifier = Modifier.padding(vertical = 8.dp)) {
                Text(stringResource(R.string.record_visit))
            }
            Text(stringResource(R.string.visit_history), style = MaterialTheme.typography.titleMedium)
        }
        items(ui.visits, key = { it.id }) { visit ->
            val needs = visit.needs.map { stringResource(it.label) }
            ListItem(
                headlineContent = { Text(stringResource(visit.purpose.label)) },
                supportingContent = { Text((listOf(formatTime(visit.at)) + needs).joinToString(" · ")) },
                trailingContent = { if (visit.followUp) Text(stringResource(R.string.follow_up)) },
            )
        }
    }
}

/** The member form's key for "a new member" (member ids are never empty). */
private const val NEW_MEMBER = ""

/** Relation, gender, birth year, residence status and the [tags] the user may see. */
@Composable
private fun memberLine(member: Member, tags: List<CareTag>): String {
    val parts = listOfNotNull(
        stringResource(member.relation.label),
        member.gender?.let { stringResource(it.label) },
        member.birthYear?.toString(),
        member.residence?.let { stringResource(it.label) },
    ) + tags.map { stringResource(it.label) }
    return parts.joinToString(" · ")
}

/** 敲门问需: purpose, needs raised, what was done on the spot, whether to follow up. */
@Composable
private fun VisitForm(store: LinliStore, householdId: String, onDone: () -> Unit) {
    // A fresh form each time it opens (not kept across rotation: it is short).
    val form = remember(householdId) { VisitFormState(store, householdId, Dispatchers.IO) }
    val ui by form.ui.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    Column(
        Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp),
        verticalArrangement = Arrangement.spacedBy(8.dp),
    ) {
        Text(stringResource(R.string.visit_purpose), style = MaterialTheme.typography.titleSmall)
        ChipRow(VisitPurpose.entries, selected = { it == ui.purpose }, label = { it.label }, onClick = form::setPurpose)

        Text(stringResource(R.string.visit_needs), style = MaterialTheme.typography.titleSmall)
        ui.needs.forEachIndexed { index, need ->
            OutlinedTextField(
                value = need.text,
                onValueChange = { form.setNeedText(index, it) },
                label = { Text(stringResource(need.category.label)) },
                trailingIcon = { TextButton(onClick = { form.removeNeed(index) }) { Text("×") } },
                modifier = Modifier.fillMaxWidth(),
            )
        }
        ui.errors[VisitField.NEEDS]?.let { FieldErrorText() }
        ChipRow(NeedCategory.entries, selected = { false }, label = { it.label }, onClick = form::addNeed)

        OutlinedTextField(
            value = ui.doneOnSpot,
            onValueChange = form::setDoneOnSpot,
            label = { Text(stringResource(R.string.visit_done_on_spot)) },
            isError = VisitField.DONE_ON_SPOT in ui.errors,
            supportingText = { if (VisitField.DONE_ON_SPOT in ui.errors) FieldErrorText() },
            modifier = Modifier.fillMaxWidth(),
        )
        ui.errors[VisitField.TIME]?.let { FieldErrorText() }
        Row(verticalAlignment = Alignment.CenterVertically) {
            Switch(checked = ui.followUp, onCheckedChange = form::setFollowUp)
            Text(stringResource(R.string.follow_up), Modifier.padding(start = 8.dp))
        }
        ui.notice?.let { NoticeText(it) }
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            Button(
                enabled = !ui.saving,
                onClick = { scope.launch { if (form.submit()) onDone() } },
            ) { Text(stringResource(R.string.save)) }
            TextButton(onClick = onDone) { Text(stringResource(R.string.cancel)) }
        }
    }
}
