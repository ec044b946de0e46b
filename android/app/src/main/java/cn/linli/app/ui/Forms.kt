package cn.linli.app.ui

import androidx.compose.foundation.horizontalScroll
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.rememberScrollState
import androidx.compose.material3.FilterChip
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Text
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
