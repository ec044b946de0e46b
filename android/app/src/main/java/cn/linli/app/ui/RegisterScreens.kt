package cn.linli.app.ui

import androidx.compose.foundation.horizontalScroll
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.AlertDialog
import androidx.compose.material3.Button
import androidx.compose.material3.FilterChip
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
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.saveable.rememberSaveable
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import cn.linli.app.R
import cn.linli.app.state.FieldError
import cn.linli.app.state.HouseholdField
import cn.linli.app.state.HouseholdFormState
import cn.linli.app.state.MemberFormState
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import uniffi.linli.CareTag
import uniffi.linli.Gender
import uniffi.linli.Housing
import uniffi.linli.LinliStore
import uniffi.linli.Member
import uniffi.linli.NewMember
import uniffi.linli.PersonResidence
import uniffi.linli.Relation
import uniffi.linli.Residency

// Keeping the register (入户登记): the household form and the member form. Which values a
// user may see is the state's `showSensitive` (grid workers and admins: yes; building and unit
// leaders: no). A leader may still enter ID numbers, phones and sensitive tags for a new
// household or a new member: write-only fields, never filled from stored values.

/** The member-related errors of the household form, each with its own label. */
private val memberFields = listOf(
    HouseholdField.MEMBER_NAME to R.string.member_name,
    HouseholdField.BIRTH_YEAR to R.string.member_birth_year,
    HouseholdField.PHONE to R.string.member_phone,
    HouseholdField.ID_NUMBER to R.string.member_id_number,
)

/** 入户登记: a new household at one of my buildings or units; [onSaved] gets its id. */
@Composable
fun HouseholdFormScreen(store: LinliStore, onSaved: (String) -> Unit, onCancel: () -> Unit) {
    val form = remember { HouseholdFormState(store, Dispatchers.IO) }
    val ui by form.ui.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    var addingMember by rememberSaveable { mutableStateOf(false) }
    LaunchedEffect(form) { form.loadPlaces() }
    LaunchedEffect(ui.savedHouseholdId) { ui.savedHouseholdId?.let(onSaved) }
    if (addingMember) {
        NewMemberDialog(
            onAdd = { form.addMember(it); addingMember = false },
            onDismiss = { addingMember = false },
        )
    }
    Column(
        Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp),
        verticalArrangement = Arrangement.spacedBy(8.dp),
    ) {
        Text(stringResource(R.string.register_household), style = MaterialTheme.typography.titleLarge)

        Text(stringResource(R.string.household_place), style = MaterialTheme.typography.titleSmall)
        if (ui.places.isEmpty()) Text(stringResource(R.string.no_places_yet))
        Row(Modifier.horizontalScroll(rememberScrollState()), horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            ui.places.forEach { place ->
                FilterChip(
                    selected = place.id == ui.placeId,
                    onClick = { form.setPlace(place.id) },
                    label = { Text(place.name) },
                )
            }
        }
        ui.errors[HouseholdField.PLACE]?.let { ReasonText(it.reason) }

        OutlinedTextField(
            value = ui.room,
            onValueChange = form::setRoom,
            label = { Text(stringResource(R.string.household_room)) },
            isError = HouseholdField.ROOM in ui.errors,
            supportingText = { ui.errors[HouseholdField.ROOM]?.let { ReasonText(it.reason) } },
            singleLine = true,
            modifier = Modifier.fillMaxWidth(),
        )

        Text(stringResource(R.string.household_residency), style = MaterialTheme.typography.titleSmall)
        ChipRow(Residency.entries, selected = { it == ui.residency }, label = { it.label }, onClick = form::setResidency)
        Text(stringResource(R.string.household_housing), style = MaterialTheme.typography.titleSmall)
        ChipRow(Housing.entries, selected = { it == ui.housing }, label = { it.label }, onClick = form::setHousing)

        // A new household: every tag may be entered; for a leader the sensitive ones are
        // write-only (sent on, not shown again).
        Text(stringResource(R.string.household_tags), style = MaterialTheme.typography.titleSmall)
        ChipRow(
            CareTag.entries,
            selected = { it in ui.tags },
            label = { it.label },
            onClick = { form.setTag(it, it !in ui.tags) },
        )
        if (!ui.showSensitive) {
            Text(stringResource(R.string.write_only_hint), style = MaterialTheme.typography.bodySmall)
        }

        OutlinedTextField(
            value = ui.notes,
            onValueChange = form::setNotes,
            label = { Text(stringResource(R.string.household_notes)) },
            isError = HouseholdField.NOTES in ui.errors,
            supportingText = { ui.errors[HouseholdField.NOTES]?.let { ReasonText(it.reason) } },
            modifier = Modifier.fillMaxWidth(),
        )

        Text(stringResource(R.string.household_members), style = MaterialTheme.typography.titleSmall)
        ui.members.forEachIndexed { index, member ->
            ListItem(
                headlineContent = { Text(member.name) },
                supportingContent = {
                    val parts = listOfNotNull(
                        stringResource(member.relation.label),
                        member.birthYear?.toString(),
                        member.phone?.takeIf { ui.showSensitive },
                    )
                    Text(parts.joinToString(" · "))
                },
                trailingContent = { TextButton(onClick = { form.removeMember(index) }) { Text("×") } },
            )
        }
        // The core names the member field it refused, not which member: one line per field.
        memberFields.forEach { (field, label) -> ui.errors[field]?.let { MemberErrorText(label, it) } }
        OutlinedButton(onClick = { addingMember = true }) { Text(stringResource(R.string.add_member)) }

        if (ui.duplicates.isNotEmpty()) {
            Text(stringResource(R.string.same_door_warning), color = MaterialTheme.colorScheme.error)
            // Address and head of household: enough to tell whether it is the same family.
            ui.duplicates.forEach { h ->
                Text("· " + listOfNotNull(h.address, h.headName).joinToString(" "), color = MaterialTheme.colorScheme.error)
            }
        }
        ui.notice?.let { NoticeText(it) }
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            Button(enabled = !ui.saving, onClick = { scope.launch { form.submit() } }) {
                Text(stringResource(if (ui.duplicates.isEmpty()) R.string.save else R.string.register_anyway))
            }
            TextButton(onClick = onCancel) { Text(stringResource(R.string.cancel)) }
        }
    }
}

@Composable
private fun MemberErrorText(label: Int, error: FieldError<HouseholdField>) {
    Text(
        "${stringResource(label)}：${stringResource(reasonHint(error.reason))}",
        color = MaterialTheme.colorScheme.error,
    )
}

/**
 * A member entered with a new household: name, relation, birth year, phone, ID number. The
 * core checks them when the household is saved (errors show on the form).
 */
@Composable
private fun NewMemberDialog(onAdd: (NewMember) -> Unit, onDismiss: () -> Unit) {
    var name by rememberSaveable { mutableStateOf("") }
    var relation by rememberSaveable { mutableStateOf(Relation.HEAD) }
    var birthYear by rememberSaveable { mutableStateOf("") }
    var phone by rememberSaveable { mutableStateOf("") }
    var idNumber by rememberSaveable { mutableStateOf("") }
    val year = birthYear.trim().toIntOrNull()
    val yearBad = birthYear.isNotBlank() && year == null
    AlertDialog(
        onDismissRequest = onDismiss,
        title = { Text(stringResource(R.string.add_member)) },
        text = {
            Column(Modifier.verticalScroll(rememberScrollState()), verticalArrangement = Arrangement.spacedBy(8.dp)) {
                OutlinedTextField(
                    value = name,
                    onValueChange = { name = it },
                    label = { Text(stringResource(R.string.member_name)) },
                    singleLine = true,
                )
                ChipRow(Relation.entries, selected = { it == relation }, label = { it.label }, onClick = { relation = it })
                OutlinedTextField(
                    value = birthYear,
                    onValueChange = { birthYear = it },
                    label = { Text(stringResource(R.string.member_birth_year)) },
                    isError = yearBad,
                    supportingText = { if (yearBad) ReasonText("not a year") },
                    keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.Number),
                    singleLine = true,
                )
                OutlinedTextField(
                    value = phone,
                    onValueChange = { phone = it },
                    label = { Text(stringResource(R.string.member_phone)) },
                    keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.Phone),
                    singleLine = true,
                )
                OutlinedTextField(
                    value = idNumber,
                    onValueChange = { idNumber = it },
                    label = { Text(stringResource(R.string.member_id_number)) },
                    singleLine = true,
                )
            }
        },
        confirmButton = {
            TextButton(
                enabled = name.isNotBlank() && !yearBad,
                onClick = {
                    onAdd(
                        NewMember(
                            name = name.trim(),
                            relation = relation,
                            birthYear = year,
                            phone = phone.trim().ifEmpty { null },
                            idNumber = idNumber.trim().ifEmpty { null },
                        ),
                    )
                },
            ) { Text(stringResource(R.string.add)) }
        },
        dismissButton = { TextButton(onClick = onDismiss) { Text(stringResource(R.string.cancel)) } },
    )
}

/**
 * 户内成员: adds ([member] null) or edits a member; for an existing one, records a move-out
 * (迁出) with its date, or removes them. [onDone] once saved, moved out or removed.
 */
@Composable
fun MemberFormScreen(store: LinliStore, householdId: String, member: Member?, onDone: () -> Unit) {
    val form = remember(householdId, member?.id) { MemberFormState(store, householdId, member, Dispatchers.IO) }
    val ui by form.ui.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()
    var pickingMoveOut by rememberSaveable { mutableStateOf(false) }
    var confirmingRemove by rememberSaveable { mutableStateOf(false) }
    LaunchedEffect(form) { form.load() }
    LaunchedEffect(ui.done) { if (ui.done) onDone() }
    // Seen by workers and admins; a leader enters them for a new member only, write-only.
    val sensitiveInputs = ui.showSensitive || member == null
    if (pickingMoveOut) {
        DateDialog(
            initial = System.currentTimeMillis(),
            onPick = { at -> pickingMoveOut = false; scope.launch { form.moveOut(at) } },
            onDismiss = { pickingMoveOut = false },
        )
    }
    if (confirmingRemove) {
        ConfirmDialog(
            title = R.string.remove_member,
            text = R.string.remove_member_confirm,
            confirm = R.string.remove,
            onConfirm = { confirmingRemove = false; scope.launch { form.remove() } },
            onDismiss = { confirmingRemove = false },
        )
    }
    Column(
        Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp),
        verticalArrangement = Arrangement.spacedBy(8.dp),
    ) {
        Text(
            stringResource(if (member == null) R.string.add_member else R.string.edit_member),
            style = MaterialTheme.typography.titleLarge,
        )
        OutlinedTextField(
            value = ui.name,
            onValueChange = form::setName,
            label = { Text(stringResource(R.string.member_name)) },
            isError = HouseholdField.MEMBER_NAME in ui.errors,
            supportingText = { ui.errors[HouseholdField.MEMBER_NAME]?.let { ReasonText(it.reason) } },
            singleLine = true,
            modifier = Modifier.fillMaxWidth(),
        )
        Text(stringResource(R.string.member_relation), style = MaterialTheme.typography.titleSmall)
        ChipRow(Relation.entries, selected = { it == ui.relation }, label = { it.label }, onClick = form::setRelation)
        OutlinedTextField(
            value = ui.birthYear,
            onValueChange = form::setBirthYear,
            label = { Text(stringResource(R.string.member_birth_year)) },
            isError = HouseholdField.BIRTH_YEAR in ui.errors,
            supportingText = { ui.errors[HouseholdField.BIRTH_YEAR]?.let { ReasonText(it.reason) } },
            keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.Number),
            singleLine = true,
            modifier = Modifier.fillMaxWidth(),
        )
        Text(stringResource(R.string.member_gender), style = MaterialTheme.typography.titleSmall)
        // Tapping the chosen one again clears it: the register may not know.
        ChipRow(
            Gender.entries,
            selected = { it == ui.gender },
            label = { it.label },
            onClick = { form.setGender(if (it == ui.gender) null else it) },
        )
        Text(stringResource(R.string.member_residence), style = MaterialTheme.typography.titleSmall)
        ChipRow(
            PersonResidence.entries,
            selected = { it == ui.residence },
            label = { it.label },
            onClick = { form.setResidence(if (it == ui.residence) null else it) },
        )
        if (sensitiveInputs) {
            OutlinedTextField(
                value = ui.phone,
                onValueChange = form::setPhone,
                label = { Text(stringResource(R.string.member_phone)) },
                isError = HouseholdField.PHONE in ui.errors,
                supportingText = { ui.errors[HouseholdField.PHONE]?.let { ReasonText(it.reason) } },
                keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.Phone),
                singleLine = true,
                modifier = Modifier.fillMaxWidth(),
            )
            OutlinedTextField(
                value = ui.idNumber,
                onValueChange = form::setIdNumber,
                label = { Text(stringResource(R.string.member_id_number)) },
                isError = HouseholdField.ID_NUMBER in ui.errors,
                supportingText = { ui.errors[HouseholdField.ID_NUMBER]?.let { ReasonText(it.reason) } },
                singleLine = true,
                modifier = Modifier.fillMaxWidth(),
            )
        }
        Text(stringResource(R.string.member_tags), style = MaterialTheme.typography.titleSmall)
        // Hidden tags stay as they are: the form keeps them and saves them unchanged.
        ChipRow(
            CareTag.entries.filter { sensitiveInputs || !it.sensitive },
            selected = { it in ui.tags },
            label = { it.label },
            onClick = { form.setTag(it, it !in ui.tags) },
        )
        if (sensitiveInputs && !ui.showSensitive) {
            Text(stringResource(R.string.write_only_hint), style = MaterialTheme.typography.bodySmall)
        }
        ui.errors[HouseholdField.MOVED_OUT_AT]?.let { MemberErrorText(R.string.member_moved_out, it) }
        ui.notice?.let { NoticeText(it) }
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            Button(enabled = !ui.saving, onClick = { scope.launch { form.submit() } }) {
                Text(stringResource(R.string.save))
            }
            TextButton(onClick = onDone) { Text(stringResource(R.string.cancel)) }
        }
        if (member != null) {
            Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                if (member.movedOutAt == null) {
                    OutlinedButton(enabled = !ui.saving, onClick = { pickingMoveOut = true }) {
                        Text(stringResource(R.string.move_out))
                    }
                }
                OutlinedButton(enabled = !ui.saving, onClick = { confirmingRemove = true }) {
                    Text(stringResource(R.string.remove_member), color = MaterialTheme.colorScheme.error)
                }
            }
        }
    }
}
