package cn.linli.app.ui

import android.text.format.DateUtils
import androidx.annotation.StringRes
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.unit.dp
import androidx.lifecycle.ViewModel
import androidx.lifecycle.viewModelScope
import androidx.lifecycle.viewmodel.compose.viewModel
import cn.linli.app.state.Notice
import kotlinx.coroutines.CoroutineScope

/**
 * Keeps a state class across configuration changes. Its scope is the ViewModel's, so the
 * state's store subscription ends when the screen is gone for good.
 */
class StateHolder<T>(create: (CoroutineScope) -> T) : ViewModel() {
    val state: T = create(viewModelScope)
}

@Composable
inline fun <reified T> rememberScreenState(key: String, noinline create: (CoroutineScope) -> T): T =
    viewModel(key = key) { StateHolder(create) }.state

@Composable
fun NoticeText(notice: Notice, modifier: Modifier = Modifier) {
    Text(
        stringResource(notice.message.label, notice.count),
        color = MaterialTheme.colorScheme.error,
        modifier = modifier.padding(8.dp),
    )
}

@Composable
fun EmptyText(@StringRes text: Int) {
    Box(Modifier.fillMaxSize(), contentAlignment = Alignment.Center) { Text(stringResource(text)) }
}

@Composable
fun LoadingScreen() {
    Box(Modifier.fillMaxSize(), contentAlignment = Alignment.Center) { CircularProgressIndicator() }
}

@Composable
fun NoticeScreen(notice: Notice) {
    Box(Modifier.fillMaxSize(), contentAlignment = Alignment.Center) { NoticeText(notice) }
}

/** Date and time in the user's locale. */
@Composable
fun formatTime(millis: Long): String = DateUtils.formatDateTime(
    LocalContext.current,
    millis,
    DateUtils.FORMAT_SHOW_DATE or DateUtils.FORMAT_SHOW_TIME,
)

/** A date (no time) in the user's locale: due dates, move-out dates. */
@Composable
fun formatDate(millis: Long): String = DateUtils.formatDateTime(
    LocalContext.current,
    millis,
    DateUtils.FORMAT_SHOW_DATE or DateUtils.FORMAT_SHOW_YEAR,
)
