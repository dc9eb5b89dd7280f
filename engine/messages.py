"""What a process owner reads about a problem in their files, in English and Chinese.

Every problem the checks find has a code (its wording class) and parameters; the sentence is
rendered from the table below in the reader's language. A sentence says what is wrong and what to
do, and never carries a library's exception text or a memory address."""
from __future__ import annotations

from typing import Any

#: code -> (English, Chinese). Parameters are str.format fields.
MESSAGES: dict[str, tuple[str, str]] = {
    # files that cannot be read
    "not_utf8": ("The file is not UTF-8 text (byte {byte}); save it as UTF-8.",
                 "文件不是 UTF-8 文本（第 {byte} 字节）；请以 UTF-8 编码保存。"),
    "malformed_xml": ("The file is not well-formed XML at line {row}, column {column} ({what}); fix the "
                      "markup there or export the diagram again.",
                      "文件在第 {row} 行第 {column} 列不是合法的 XML（{what_zh}）；请修正该处或重新导出图。"),
    "too_deep_xml": ("The file is nested more than {limit} levels deep; caseflow does not accept such files. "
                     "Flatten the nesting (use call activities instead of subprocesses inside subprocesses).",
                     "文件嵌套超过 {limit} 层，caseflow 不接受；请减少嵌套（用调用活动代替层层嵌套的子流程）。"),
    "not_bpmn": ("The file is not a BPMN 2.0 diagram (its root element is <{root}>); export it from your "
                 "modelling tool as BPMN 2.0 XML.",
                 "文件不是 BPMN 2.0 图（根元素是 <{root}>）；请在建模工具中导出为 BPMN 2.0 XML。"),
    "not_dmn": ("The file is not a DMN decision file (its root element is <{root}>); export the decision "
                "table as DMN 1.3 XML.",
                "文件不是 DMN 决策文件（根元素是 <{root}>）；请将决策表导出为 DMN 1.3 XML。"),
    "schema": ("<{tag}> does not follow the BPMN 2.0 schema here: {what}. Fix the element or export the "
               "diagram again as standard BPMN 2.0.",
               "<{tag}> 在此处不符合 BPMN 2.0 规范：{what}。请修正该元素或重新导出为标准 BPMN 2.0。"),
    # unsupported elements and expressions
    "unsupported_element": ("caseflow does not support {what} here; {instead}.",
                            "caseflow 不支持此处的{what_zh}；{instead_zh}。"),
    "foreign_attribute": ("caseflow does not support the {tool} setting {attribute} here; {instead}.",
                          "caseflow 不支持此处的 {tool} 设置 {attribute}；{instead_zh}。"),
    "script_language": ("caseflow does not support {language} here; scripts and expressions are Python. "
                        "Rewrite it in Python.",
                        "caseflow 不支持此处的 {language}；脚本和表达式使用 Python，请用 Python 改写。"),
    "juel": ("caseflow does not support ${{...}} expressions here ({source}); write a Python expression, "
             "e.g. {example}.",
             "caseflow 不支持此处的 ${{...}} 表达式（{source}）；请写 Python 表达式，例如 {example}。"),
    "timer_unquoted": ("The timer expression {source} is read as Python, so it names a variable that does "
                       "not exist; write it with quotes: \"{source}\".",
                       "计时器表达式 {source} 按 Python 读取，会被当作不存在的变量；请加引号：\"{source}\"。"),
    "timer_unknown": ("caseflow does not understand the timer expression {source} here; write an ISO 8601 "
                      "{kind} in quotes (e.g. {example}) or the name of a variable holding one.",
                      "caseflow 无法理解此处的计时器表达式 {source}；请写带引号的 ISO 8601 {kind_zh}（例如 {example}）"
                      "或保存该值的变量名。"),
    "timer_empty": ("The timer has no time; give it a duration, a date or a cycle.",
                    "计时器没有设置时间；请设置时长、日期或周期。"),
    "task_multiple_outgoing": ("caseflow does not support {count} flows leaving a task here; put an exclusive "
                               "gateway (one path) or a parallel gateway (all paths) after the task.",
                               "caseflow 不支持从任务直接引出 {count} 条流；请在任务后放置排他网关（走一条）或并行网关（全部走）。"),
    "conditional_flow_from_task": ("caseflow does not support a condition on a flow leaving a task "
                                   "(flow {flow}); put an exclusive gateway after the task and move the "
                                   "condition there.",
                                   "caseflow 不支持任务引出的流带条件（流 {flow}）；请在任务后放置排他网关并把条件移到网关的流上。"),
    "service_without_operator": ("The service task names no caseflow operation; add "
                                 "spiffworkflow:serviceTaskOperator with one of: {operators}.",
                                 "服务任务没有指定 caseflow 操作；请添加 spiffworkflow:serviceTaskOperator，取值之一：{operators}。"),
    # structure (in the spirit of bpmnlint's recommended rules)
    "not_executable": ("Process {process} is marked not executable (isExecutable=\"false\", the default of "
                       "some modelling tools), so caseflow would never run it; set isExecutable=\"true\" "
                       "(\"Executable\" in the modeller's properties).",
                       "流程 {process} 被标记为不可执行（isExecutable=\"false\"，部分建模工具的默认值），caseflow 不会运行它；"
                       "请设置 isExecutable=\"true\"（建模工具属性中的“可执行”）。"),
    "no_executable_process": ("None of the files holds an executable process, so nothing could run; add "
                              "a process with isExecutable=\"true\".",
                              "所有文件中都没有可执行的流程，什么都不会运行；请添加 isExecutable=\"true\" 的流程。"),
    "no_start": ("{scope} has no start event; add one where cases begin.",
                 "{scope} 没有开始事件；请在案件开始处添加一个。"),
    "no_end": ("{scope} has no end event; end every path with an end event.",
               "{scope} 没有结束事件；请用结束事件结束每条路径。"),
    "unreachable": ("{name} cannot be reached from a start event (no flow leads to it); connect it or "
                    "delete it.",
                    "{name} 无法从开始事件到达（没有流指向它）；请连接或删除它。"),
    "dead_end": ("{name} has no outgoing flow, so a case would stop there; connect it to the next step or "
                 "to an end event.",
                 "{name} 没有引出的流，案件会停在那里；请把它连到下一步或结束事件。"),
    "dangling_flow": ("Flow {flow} {end} {ref}, which is not an element of the same process; connect both "
                      "ends of the flow or delete it.",
                      "流 {flow} 的{end_zh} {ref} 不是同一流程中的元素；请连接流的两端或删除它。"),
    "no_default": ("Gateway {name}: every outgoing flow has a condition and none is the default, so a case "
                   "whose data matches no condition stops with an error; mark one flow as the default.",
                   "网关 {name}：每条引出的流都有条件且没有默认流，数据不满足任何条件的案件会出错停止；请把一条流设为默认流。"),
    "flow_without_condition": ("Flow {flow} leaves gateway {name} without a condition and is not its default; "
                               "give it a condition or make it the default.",
                               "流 {flow} 从网关 {name} 引出，但没有条件也不是默认流；请加条件或设为默认流。"),
    "default_not_outgoing": ("Gateway {name} names {flow} as its default, but that flow does not leave it; "
                             "choose one of its outgoing flows.",
                             "网关 {name} 的默认流 {flow} 并不从它引出；请选择它引出的一条流。"),
    "path_too_long": ("{scope} has a path of more than {limit} steps; caseflow does not accept paths that "
                      "long. Split it into called processes.",
                      "{scope} 有超过 {limit} 步的路径，caseflow 不接受；请拆分为被调用的流程。"),
    "nesting_too_deep": ("Subprocesses are nested more than {limit} deep here; use call activities to "
                         "separate processes instead.",
                         "此处子流程嵌套超过 {limit} 层；请改用调用活动拆分流程。"),
    "called_process_missing": ("Call activity {name} calls process {process}, which none of the files "
                               "holds; add its file or correct calledElement.",
                               "调用活动 {name} 调用的流程 {process} 不在任何文件中；请添加该文件或修正 calledElement。"),
    "decision_missing": ("Business rule task {name} uses decision {decision}, which none of the .dmn files "
                         "holds; add the decision table or correct spiffworkflow:calledDecisionId.",
                         "业务规则任务 {name} 使用的决策 {decision} 不在任何 .dmn 文件中；请添加决策表或修正 "
                         "spiffworkflow:calledDecisionId。"),
    "decision_not_named": ("Business rule task {name} names no decision; set spiffworkflow:calledDecisionId "
                           "to the id of a decision in a .dmn file.",
                           "业务规则任务 {name} 没有指定决策；请把 spiffworkflow:calledDecisionId 设为某个 .dmn 文件中决策的 id。"),
    # DMN
    "dmn_feel_list": ("Rule {rule}, column {column}: caseflow reads cells as Python, not FEEL, so {cell} "
                      "never matches; write in ({suggestion}).",
                      "规则 {rule}，列 {column}：caseflow 按 Python 而非 FEEL 读取单元格，{cell} 永远不会匹配；请写 in ({suggestion})。"),
    "dmn_feel_not": ("Rule {rule}, column {column}: caseflow reads cells as Python, not FEEL, so {cell} "
                     "never matches; write != {value} (or not in (...)).",
                     "规则 {rule}，列 {column}：caseflow 按 Python 而非 FEEL 读取单元格，{cell} 永远不会匹配；请写 != {value}（或 not in (...)）。"),
    "dmn_feel_range": ("Rule {rule}, column {column}: caseflow reads cells as Python, not FEEL, so the range "
                       "{cell} never matches; write {low} <= ? <= {high}.",
                       "规则 {rule}，列 {column}：caseflow 按 Python 而非 FEEL 读取单元格，区间 {cell} 永远不会匹配；请写 {low} <= ? <= {high}。"),
    "dmn_cell": ("Rule {rule}, column {column}: the cell {cell} is not a valid expression ({reason}); "
                 "write a Python comparison such as == \"a\", < 5 or in (\"a\", \"b\").",
                 "规则 {rule}，列 {column}：单元格 {cell} 不是有效表达式（{reason}）；请写 Python 比较，如 == \"a\"、< 5 或 in (\"a\", \"b\")。"),
    "dmn_output": ("Rule {rule}, output {column}: the value {cell} is not a valid expression ({reason}); "
                   "write a Python value such as \"high\" (with quotes) or 3.",
                   "规则 {rule}，输出 {column}：值 {cell} 不是有效表达式（{reason}）；请写 Python 值，如 \"high\"（带引号）或 3。"),
    "dmn_input": ("Input column {column}: the expression {cell} is not valid ({reason}); write the variable "
                  "the column reads, e.g. category.",
                  "输入列 {column}：表达式 {cell} 无效（{reason}）；请填写该列读取的变量，例如 category。"),
    "dmn_cell_count": ("Rule {rule} has {cells} input cells for {inputs} input columns; give every rule one "
                       "cell per column (- for any value).",
                       "规则 {rule} 有 {cells} 个输入单元格，但表有 {inputs} 个输入列；每条规则每列一个单元格（任意值写 -）。"),
    "dmn_input_expression": ("Input column {column} has no expression; give it the variable it reads "
                             "(e.g. category).",
                             "输入列 {column} 没有表达式；请填写它读取的变量（例如 category）。"),
    "dmn_decision_missing": ("The file has no decision {decision}; the proposal must keep that decision's id.",
                             "文件中没有决策 {decision}；提案必须保留该决策的 id。"),
    "dmn_no_table": ("Decision {decision} has no decision table; caseflow runs decision tables only "
                     "(no literal expressions or requirement graphs).",
                     "决策 {decision} 没有决策表；caseflow 只运行决策表（不支持字面表达式或需求图）。"),
    "dmn_hit_policy": ("caseflow does not support the hit policy {policy} here (it would silently act as "
                       "FIRST); use one of {policies}.",
                       "caseflow 不支持此处的命中策略 {policy}（它会悄悄按 FIRST 执行）；请使用 {policies} 之一。"),
    # scripts and expressions (compiled under the sandbox)
    "expression": ("The {what} is not valid: {reason}. Correct the Python there.",
                   "{what_zh}无效：{reason}。请修正该处的 Python。"),
    "expression_line": ("The {what} is not valid at its line {at}: {reason}. Correct the Python there.",
                        "{what_zh}第 {at} 行无效：{reason}。请修正该处的 Python。"),
    "unknown_operator": ("No caseflow handler implements the operation '{operator}'; use one of: {operators}.",
                         "没有 caseflow 处理程序实现操作 '{operator}'；请使用以下之一：{operators}。"),
    # caseflow's conventions on user tasks, forms and notices (cases/process/deploy.py)
    "no_lane": ("The user task is not in a lane; put it in the lane of the role that works on it.",
                "用户任务不在任何泳道中；请把它放进负责角色的泳道。"),
    "lane_not_role": ("Lane '{lane}' is not a role; name the lane after one of: {roles}.",
                      "泳道 '{lane}' 不是角色；请用以下角色之一命名泳道：{roles}。"),
    "no_form": ("The user task has no '{property}' property; name its form's JSON schema there.",
                "用户任务没有 '{property}' 属性；请在其中填写表单的 JSON schema。"),
    "form_missing": ("The form '{form}' does not exist in forms/; add the file or correct the name.",
                     "表单 '{form}' 不在 forms/ 中；请添加该文件或修正名称。"),
    "assignment_unknown": ("The assignment '{rule}' is not one of {rules}; choose one of them.",
                           "分配规则 '{rule}' 不是 {rules} 之一；请从中选择。"),
    "assignment_customer": ("The assignment 'case_customer' belongs on the customer lane, and the customer lane "
                            "needs it; move the task or change its assignment.",
                            "分配规则 'case_customer' 只能用于客户泳道，且客户泳道必须使用它；请移动任务或修改分配规则。"),
    "case_field_unknown": ("caseFields names '{field}', which is not a case field; use one of {fields}.",
                           "caseFields 中的 '{field}' 不是案件字段；请使用 {fields} 之一。"),
    "role_unknown": ("alsoRoles names '{role}', which is not a role; use one of {roles}.",
                     "alsoRoles 中的 '{role}' 不是角色；请使用 {roles} 之一。"),
    "notice_unknown": ("{property} '{kind}' is not one of {kinds}; choose one of them.",
                       "{property} '{kind}' 不是 {kinds} 之一；请从中选择。"),
    "form_invalid": ("The form is not a valid JSON schema ({reason}); correct it.",
                     "表单不是有效的 JSON schema（{reason}）；请修正。"),
    # the parser refused something the checks above did not recognise
    "unreadable": ("caseflow could not read <{tag}> here; it may use a BPMN feature caseflow does not "
                   "support. Compare it with the supported elements in docs/process.md, or remove it.",
                   "caseflow 无法读取此处的 <{tag}>，它可能使用了 caseflow 不支持的 BPMN 功能；请对照 docs/process.md "
                   "中支持的元素，或删除它。"),
    "unreadable_file": ("caseflow could not read this file as a whole; check that it is a BPMN 2.0 or DMN "
                        "file exported by a modelling tool, and that every reference in it points to an "
                        "element that exists.",
                        "caseflow 无法读取整个文件；请确认它是建模工具导出的 BPMN 2.0 或 DMN 文件，且其中的引用都指向存在的元素。"),
    "too_many_problems": ("… and {count} more problems of this kind in this file.",
                          "……本文件中还有 {count} 个同类问题。"),
    # why a running case cannot move to another version (dry run, move, revert: engine/migration.py)
    "move_no_process": ("the target version has no process '{process}'",
                        "目标版本中没有流程 '{process}'"),
    "move_step_removed": ("the current step '{step}' does not exist in the target version",
                          "当前步骤 '{step}' 在目标版本中不存在"),
    "move_step_removed_named": ("the current step '{step}' does not exist in the target version ({name})",
                                "当前步骤 '{step}'（{name_zh}）在目标版本中不存在"),
    "move_history_removed": ("the case has passed the step '{step}', which the target version no longer has, so its "
                             "history could not be read there; map the step to its new id (renamed steps) or leave "
                             "the case on its version",
                             "案件已经过步骤 '{step}'，而目标版本中已没有该步骤，迁移后无法读取其历史；请将该步骤映射到新的 id"
                             "（重命名的步骤），或让案件留在原版本"),
    "move_subprocess_removed": ("the running subprocess '{process}' does not exist in the target version",
                                "正在运行的子流程 '{process}' 在目标版本中不存在"),
    "move_fails_variable": ("after the move the step '{element}' fails: it reads the variable '{name}', which the case "
                            "does not have",
                            "迁移后步骤 '{element}' 出错：它读取变量 '{name}'，但案件中没有该变量"),
    "move_fails": ("after the move the process fails: {detail}",
                   "迁移后流程出错：{detail}"),
    "move_fails_at": ("after the move the process fails at '{element}': {detail}",
                      "迁移后流程在 '{element}' 处出错：{detail}"),
    "move_variable_missing": ("the step '{element}' ({element_name}) ahead reads the variable '{name}', which the "
                              "case does not have and no step before it writes on every path",
                              "后续步骤 '{element}'（{element_name_zh}）读取变量 '{name}'，但案件中没有该变量，"
                              "且并非每条路径上都有之前的步骤写入它"),
    "move_variable_missing_called": ("the step '{element}' ({element_name}) of the called process '{process}' "
                                     "ahead reads the variable '{name}', which the case does not have and no step "
                                     "before it writes on every path",
                                     "被调用流程 '{process}' 中的后续步骤 '{element}'（{element_name_zh}）读取变量 "
                                     "'{name}'，但案件中没有该变量，且并非每条路径上都有之前的步骤写入它"),
    "move_not_on_source": ("the case is no longer on the source version",
                           "该案件已不在源版本上"),
    "move_failed": ("the move failed: {detail}", "迁移失败：{detail}"),
    "move_failed_at": ("the move failed at '{element}': {detail}", "迁移在 '{element}' 处失败：{detail}"),
    "revert_moved_on": ("the case has moved on since the migration",
                        "迁移之后该案件已继续办理，无法移回"),
    "mapping_unknown_old": ("'{old}' is not a user task of the source version",
                            "'{old}' 不是源版本中的用户任务"),
    "mapping_old_kept": ("'{old}' still exists in the target version; map only ids the target version no "
                         "longer has", "'{old}' 在目标版本中仍然存在；只能映射目标版本中已不存在的 id"),
    "mapping_unknown_new": ("'{new}' is not a user task of the target version",
                            "'{new}' 不是目标版本中的用户任务"),
    "mapping_other_process": ("'{old}' is in the process '{old_process}', '{new}' in '{new_process}'; map a step "
                              "to a step of the same process",
                              "'{old}' 属于流程 '{old_process}'，而 '{new}' 属于 '{new_process}'；只能映射到同一流程中的步骤"),
    "mapping_twice": ("'{new}' is the target of more than one id ({olds}); map each step to a step of its own",
                      "'{new}' 是多个 id（{olds}）的映射目标；每个步骤只能映射到各自不同的步骤"),
}

#: Chinese names of the things the parameters name (``what_zh``, ``instead_zh``, ``end_zh``…)
ZH_SUFFIX = "_zh"


class _Fields(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return self.get(key[:-len(ZH_SUFFIX)], "") if key.endswith(ZH_SUFFIX) else ""


def render(code: str, params: dict[str, Any], lang: str = "en") -> str:
    en, zh = MESSAGES[code]
    return (zh if lang.startswith("zh") else en).format_map(_Fields(params))
