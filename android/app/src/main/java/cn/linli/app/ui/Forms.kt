package cn.linli.app.ui

import androidx.compose.foundation.horizontalScroll
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.rememberScrollState
import androidx.compose.material3.AlertDialog
import androidx.compose.material3.DatePicker
import androidx.compose.material3.DatePickerDialog
import androidx.compose.material3.ExperimentalMaterial3Api
import androidx.compose.material3.FilterChip
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.material3.rememberDatePickerState
import androidx.compose.runtime.Composable
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.unit.dp
import cn.linli.app.R

/** One chip per choice, scrolling sideways; [label] gives each a string resource. */
@Composable
fun <T> ChipRow(
    choices: List<T>,
    selected: (T) -> Boolean,
    label: (T) -> Int,
    onClick: (T) -> Unit,
) {
    Row(Modifier.horizontalScroll(rememberScrollState()), horizontalArrangement = Arrangement.spacedBy(8.dp)) {
        choices.forEach { choice ->
            FilterChip(
                selected = selected(choice),
                onClick = { onClick(choice) },
                label = { Text(stringResource(label(choice))) },
            )
        }
    }
}

/**
 * Under a field the core refused. The core's reason is English and meant for logs; the user
 * sees one localised hint per field.
 */
@Composable
fun FieldErrorText() {
    Text(stringResource(R.string.field_invalid), color = MaterialTheme.colorScheme.error)
}

/** Under a field the core refused: the hint for its reason code (`FieldError.reason`). */
@Composable
fun ReasonText(reason: String) {
    Text(stringResource(reasonHint(reason)), color = MaterialTheme.colorScheme.error)
}

/**
 * Picks a day (a move-out, a new due date): [onPick] gets the day's start in UTC, in
 * milliseconds, as Material's date picker gives it.
 */
@OptIn(ExperimentalMaterial3Api::class)
@Composable
fun DateDialog(initial: Long, onPick: (Long) -> Unit, onDismiss: () -> Unit) {
    val picker = rememberDatePickerState(initialSelectedDateMillis = initial)
    DatePickerDialog(
        onDismissRequest = onDismiss,
        confirmButton = {
            TextButton(
                enabled = picker.selectedDateMillis != null,
                onClick = { picker.selectedDateMillis?.let(onPick) },
            ) { Text(stringResource(R.string.ok)) }
        },
        dismissButton = { TextButton(onClick = onDismiss) { Text(stringResource(R.string.cancel)) } },
    ) {
        DatePicker(state = picker)
    }
}

/** Asks before something that cannot be undone (discarding a change, removing a member). */
@Composable
fun ConfirmDialog(title: Int, text: Int, confirm: Int, onConfirm: () -> Unit, onDismiss: () -> Unit) {
    AlertDialog(
        onDismissRequest = onDismiss,
        title = { Text(stringResource(title)) },
        text = { Text(stringResource(text)) },
        confirmButton = {
            TextButton(onClick = onConfirm) {
                Text(stringResource(confirm), color = MaterialTheme.colorScheme.error)
            }
        },
        dismissButton = { TextButton(onClick = onDismiss) { Text(stringResource(R.string.cancel)) } },
    )
}
