"""Words in one place: the reader-facing text of reports, in Japanese and English.

Statistics return codes and numbers; what a reader sees — headings, captions, column
headers, verdict labels, notes — is looked up here by key, like
:data:`dxanalysis.validate.MESSAGES` for input errors (STYLE.md §11).

* :data:`TEXT` — ``key → (ja, en)``; :func:`t` fills ``{placeholders}``.
* :data:`TABLE_CAPTIONS` — a shared table's caption by the table's name (the ``name``
  given to :meth:`~dxanalysis.report.Publisher.table`), ``name → (ja, en)``. The
  Publisher uses the English one when the run is in English.
* :data:`COLUMN_LABELS_EN` — English column headers by column id, with per-table
  overrides ``"<table name>.<column>"``.
* Notebook prose: the Japanese stays in the notebook's markdown cells (what advisors read
  in JupyterLab); the English of each cell is in ``resources/notebook_text_en.yaml``,
  keyed by notebook and cell id, and :func:`notebook_prose` returns it for
  :func:`dxanalysis.report.render_html`.

``python -m dxanalysis.i18n --rehash`` records the hash of each Japanese cell beside its
translation after the English has been brought up to date.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

import yaml

LANGUAGES = ("ja", "en")
RESOURCES = Path(__file__).resolve().parent / "resources"
NOTEBOOK_TEXT_EN = RESOURCES / "notebook_text_en.yaml"
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")

#: key → (ja, en)
TEXT: dict[str, tuple[str, str]] = {
    # views.roadmap (notebook 03)
    "roadmap.inputs.items": ("評価項目", "Assessment items"),
    "roadmap.inputs.items_value": ("{n}項目({domains}領域)", "{n} items ({domains} areas)"),
    "roadmap.inputs.years": ("現状と目標の年度", "Years of the current and target levels"),
    "roadmap.inputs.years_value": ("現状 {now}、目標 {target}(3年後)", "current {now}, target {target} (in 3 years)"),
    "roadmap.inputs.survey_items": ("アンケートから現状レベルを求める項目", "Items whose current level comes from the survey"),
    "roadmap.inputs.survey_item": ("{item_id} {item}(アンケートの「{construct}」)", "{item_id} {item} (survey: {construct})"),
    "roadmap.inputs.none": ("なし", "none"),
    "roadmap.inputs.measures": ("打ち手", "Measures"),
    "roadmap.inputs.measures_value": ("{n}件({first}〜{last})", "{n} ({first} to {last})"),
    "roadmap.inputs.no_measures": ("0件", "none"),
    "roadmap.inputs.segments": ("対象セグメント(ノートブック02)", "Target segments (notebook 02)"),
    "roadmap.inputs.no_segment_names": ("セグメントの名称を利用できないため番号(1〜8)のみで照合", "segment names are not available, so segments are matched by number (1–8) only"),
    "roadmap.source.survey": ("アンケート", "survey"),
    "roadmap.source.self": ("自己評価", "self-assessment"),
    "roadmap.domain_gaps": ("ギャップ(目標−現状)の平均が最も大きい領域は「{high}」({high_gap}段階)、最も小さいのは「{low}」({low_gap}段階)。",
                            "The area with the largest mean gap (target − current) is \u201c{high}\u201d ({high_gap} steps), the smallest \u201c{low}\u201d ({low_gap} steps)."),
    "roadmap.quadrants.count": ("{label} {n}項目", "{label}: {n}"),
    "roadmap.quadrants": ("ギャップと重要度で4区分した結果: {counts}。重点課題は {ids}。", "Items by gap and importance: {counts}. Focus: {ids}."),
    "roadmap.roadmap.span": ("{n}件の打ち手を{first}から{last}に配置。", "{n} measures from {first} to {last}. "),
    "roadmap.roadmap.flagged": ("前提の打ち手が後から始まるもの: {items}。", "Measures whose prerequisite starts later: {items}."),
    "roadmap.roadmap.flag": ("{measure_id} {measure}({start}開始。前提の {dependency}{dependency_measure}は{dependency_start}開始)",
                             "{measure_id} {measure} (starts {start}; its prerequisite {dependency}{dependency_measure} starts {dependency_start})"),
    "roadmap.roadmap.no_conflict": ("前提関係の矛盾はありません。", "No prerequisite starts later than the measure that needs it."),
    "roadmap.period": ("{start}〜{end}", "{start} to {end}"),
    "roadmap.dependency_flag": ("{dependency}が{start}開始", "{dependency} starts {start}"),
    "roadmap.weight.gap": ("ギャップ", "gap"),
    "roadmap.weight.importance": ("重要度", "importance"),
    "roadmap.weight.feasibility": ("実現容易性", "feasibility"),
    "roadmap.quadrant.focus": ("重点課題(最優先で取り組む)", "Focus: act first"),
    "roadmap.quadrant.plan": ("計画的に取り組む", "Plan for later"),
    "roadmap.quadrant.maintain": ("維持・強化する", "Maintain and strengthen"),
    "roadmap.quadrant.monitor": ("経過を見守る", "Monitor"),
    "roadmap.family.weight": ("重みの変更", "weights"),
    "roadmap.family.rating": ("評価±1", "ratings ±1"),
    "roadmap.family.survey": ("アンケートの区間", "survey interval"),
    "roadmap.family.sep": ("・", ", "),
    "roadmap.rating.importance": ("重要度の評価", "importance rating"),
    "roadmap.rating.feasibility": ("実現容易性の評価", "feasibility rating"),
    "roadmap.survey_bound.low": ("アンケートの現状レベル 区間の下限", "survey-based current level at the lower 95% bound"),
    "roadmap.survey_bound.high": ("アンケートの現状レベル 区間の上限", "survey-based current level at the upper 95% bound"),
    "roadmap.rank_range": ("{low}〜{high}位", "#{low}–{high}"),
    "roadmap.fy_target": ("{fy}目標", "{fy} target"),
    "roadmap.weights.raked": ("名簿の{labels}の人数に合わせた重み付け(レイキング)", "weighted (raking) to the numbers by {labels} of the staff roster"),
    "roadmap.weights.none": ("重み付けなし(名簿による重み付けの関数がまだありません)", "unweighted (no weighting to the roster is available)"),
    "roadmap.dependency.later": ("{measure_id} {measure}({start}開始)は、前提の {dependency} {dependency_measure}({dependency_start}開始)より先に始まります。開始年度を見直してください。",
                                "{measure_id} {measure} ({start}) starts before {dependency} {dependency_measure} ({dependency_start}), which it depends on. Review the start years."),
    "roadmap.dependency.ok": ("問題なし", "ok"),
    "roadmap.alt.current_vs_target": ("領域ごとの現状レベルと3年後の目標レベルの平均を結んだ図。", "Mean current level and target level in 3 years, by area. "),
    "roadmap.alt.rank_stability": ("条件を変えたときの上位項目の順位の振れ幅。", "Range of ranks of the top items under changed assumptions. "),
    "roadmap.alt.gantt": ("打ち手を年度ごとに並べたガントチャート。", "Gantt chart of the measures by fiscal year. "),
    # views.segments (notebook 02)
    "segments.level.high": ("高い", "high"),
    "segments.level.mid": ("平均的", "average"),
    "segments.level.low": ("低い", "low"),
    "segments.features": ("回答者{n_all}人のうち、セグメント作りに使う得点({cols})がすべてそろった{n_seg}人をセグメントに分けました。",
                          "Of {n_all} respondents, the {n_seg} with every score used for segmentation ({cols}) were segmented."),
    "segments.features.left_out": ("構成概念の設問の半分以上に答えていない{n}人は、得点を補完せずセグメントの対象外としています。",
                                   " {n} who answered fewer than half of a construct's items are left out (no imputation)."),
    "segments.profiles.head": ("{segment}「{name}」は", "{segment} \u201c{name}\u201d: "),
    "segments.profiles.all_above": ("すべての構成概念で職員平均を上回る(最も上回るのは{construct} {mean}点)", "above the staff average on every construct (most: {construct}, {mean})"),
    "segments.profiles.all_below": ("すべての構成概念で職員平均を下回る(最も下回るのは{construct} {mean}点)", "below the staff average on every construct (most: {construct}, {mean})"),
    "segments.profiles.mixed": ("{high}が職員平均を最も上回り({high_mean}点)、{low}が最も下回る({low_mean}点)", "furthest above the staff average on {high} ({high_mean}), furthest below on {low} ({low_mean})"),
    "segments.profiles": ("構成概念の平均(1〜5点): {parts}。", "Mean construct scores (1–5): {parts}."),
    "segments.composition.none": ("表示できる集団がありません。", "No group can be shown."),
    "segments.composition.part": ("{segment}「{name}」の割合が最も高いのは{group}({share})", "{segment} \u201c{name}\u201d is most common in {group} ({share})"),
    "segments.composition": ("{attribute}別: {parts}。", "By {attribute}: {parts}. "),
    "segments.merges": ("人数が{min_size}人未満のセグメントが{n}つあったため、中心が最も近いセグメントに統合しました(統合前 k={k}、統合後 {n_segments})。",
                        "{n} segments had fewer than {min_size} people and were merged into the segment with the nearest centre (k={k} before, {n_segments} after)."),
    "segments.weighting": ("職員全体の推定割合の95%信頼区間は、重みのばらつきによるデザイン効果 {deff}(回答者{n}人が、重みのない約{n_eff}人分の情報に相当)を考慮したWilsonの方法で計算しました。",
                           "The 95% confidence intervals of the estimated shares of all staff use Wilson's method with the design effect of the weights, {deff} ({n} respondents carry the information of about {n_eff} unweighted ones)."),
    "segments.opportunities.none": ("セグメントに合わせて勧められる機会がありませんでした(セグメントが1つだけの場合は、職員全体の弱い構成概念を 01 現状把握 で確認してください)。",
                                    "No opportunity could be matched to the segments (with a single segment, see the weakest constructs of all staff in 01 Current state)."),
    "segments.opportunities.part": ("{segment}「{name}」→{opportunity}", "{segment} \u201c{name}\u201d → {opportunity}"),
    "segments.opportunities": ("セグメントごとに最初に勧める機会: {parts}。", "First opportunity for each segment: {parts}."),
    "segments.selection.given": ("セグメント数はアドバイザーが{k}に指定。", "The number of segments, {k}, was set by the advisor. "),
    "segments.selection.one": ("全員を1つのセグメントとし、セグメントには分けませんでした。", "Everyone forms one segment: respondents were not divided. "),
    "segments.selection.crit.silhouette": ("平均シルエット幅が最大", "the largest mean silhouette width"),
    "segments.selection.crit.bic": ("BICが最小", "the smallest BIC"),
    "segments.selection.chosen": ("安定性の基準(再標本化ARI≥{threshold})を満たすkのうち{crit}のk={k}を選択。",
                                  "Of the k meeting the stability criterion (resampling ARI ≥ {threshold}), k={k} with {crit} was chosen. "),
    "segments.selection.unstable": ("安定性の基準を満たすkがなく、{crit}のk={k}を選択(解釈に注意)。", "No k meets the stability criterion; k={k} with {crit} was chosen (interpret with care). "),
    "segments.selection.silhouette_ari": ("k={k}のシルエット{silhouette}、再標本化ARI{ari}。", "k={k}: silhouette {silhouette}, resampling ARI {ari}. "),
    "segments.selection.ari": ("k={k}の再標本化ARI{ari}。", "k={k}: resampling ARI {ari}. "),
    "segments.selection.silhouette": ("k={k}のシルエット{silhouette}。", "k={k}: silhouette {silhouette}. "),
    "segments.selection.no_structure": ("混合ガウスモデルのBICは、セグメントに分けないモデル(k=1、全員が1つのまとまり)で最も小さく({bic})、データには明確なセグメント構造が見つかりませんでした。",
                                        "The Gaussian mixture's BIC is smallest for not dividing (k=1, everyone one group; {bic}): no clear segment structure was found in the data."),
    "segments.selection.convenience": ("k={k}のセグメントは、連続的に分布する得点を便宜上区切ったもので、はっきり分かれた集団ではありません。境目付近の職員はどちらのセグメントにも入りうるので、名称と人数は目安として読んでください。",
                                       " The k={k} segments cut continuously spread scores for convenience; they are not clearly separate groups. Staff near a boundary could fall in either segment, so read the names and sizes as a rough guide."),
    "segments.selection.single": ("分けないモデル(k=1)のBIC {bic}より小さい", "below the BIC of not dividing (k=1), {bic}"),
    "segments.selection.agree": ("シルエット(k平均法)とBIC(混合ガウスモデル)はどちらも同じk={k_sil}を支持し、k={k_bic}のBIC {bic}は{single}。",
                                 "Silhouette (k-means) and BIC (Gaussian mixture) both point to k={k_sil}; the BIC at k={k_bic}, {bic}, is {single}."),
    "segments.selection.disagree": ("シルエット(k平均法)はk={k_sil}、BIC(混合ガウスモデル)はk={k_bic}を支持し、基準が一致しない(k={k_bic}のBIC {bic}は{single})。",
                                    "Silhouette (k-means) points to k={k_sil}, BIC (Gaussian mixture) to k={k_bic}: the criteria disagree (the BIC at k={k_bic}, {bic}, is {single})."),
    "segments.support.no_structure": ("混合ガウスモデルのBICでは分けないモデル(k=1)が最も良く、明確なセグメント構造は見つかっていない",
                                      "by the BIC of the Gaussian mixture, not dividing (k=1) is best: no clear segment structure was found"),
    "segments.support.given": ("数はアドバイザーが指定", "number set by the advisor"),
    "segments.support.ari": ("再標本化の安定性ARI {ari}", "resampling stability ARI {ari}"),
    "segments.support.silhouette": ("平均シルエット幅 {silhouette}", "mean silhouette width {silhouette}"),
    "segments.support.largest": ("が最大", " (the largest)"),
    "segments.support.bic_also": ("混合ガウスモデルのBICもk={k}で最小で、分けないモデル(k=1)より小さい", "the Gaussian mixture's BIC is also lowest at k={k} and below not dividing (k=1)"),
    "segments.support.bic": ("混合ガウスモデルのBICはk={k}で最小で、分けないモデル(k=1)より小さい", "the Gaussian mixture's BIC is lowest at k={k} and below not dividing (k=1)"),
    "segments.support.bic_differs": ("ただし混合ガウスモデルのBICはk={k}で最小で、基準は一致しない", "but the Gaussian mixture's BIC is lowest at k={k}: the criteria disagree"),
    "segments.weighted.ci": ("、95%信頼区間{low}〜{high}%", ", 95% confidence interval {low}–{high}%"),
    "segments.weighted": ("職員全体では推定{share}%{ci}", "an estimated {share}% of all staff{ci}"),
    "segments.weighted.sep": ("。{weighted}", "; {weighted}"),
    "segments.table.none": ("表示できるセグメントがありません。", "No segment can be shown."),
    "segments.table.part": ("{segment}「{name}」{n}人(回答者の{share}%{weighted})", "{segment} \u201c{name}\u201d {n} people ({share}% of respondents{weighted})"),
    "segments.table.head": ("回答者を{k}つのセグメントに分けました", "Respondents fall into {k} segments"),
    "segments.table.head.no_structure": ("明確なセグメント構造は見つかりませんでした({support})。便宜上{k}つに区切ると", "No clear segment structure was found ({support}). Cut into {k} for convenience"),
    "segments.table.head.one": ("セグメントには分けませんでした({support})", "Respondents were not divided ({support})"),
    "segments.table.head.basis": ("回答者を{k}つのセグメントに分けました(根拠: {support})", "Respondents were divided into {k} segments (basis: {support})"),
    "segments.table": ("{head}: {parts}。", "{head}: {parts}."),
    "segments.targets.none": ("研修「{opportunity}」を第一の推奨とするセグメントはありません。", "No segment has the training \u201c{opportunity}\u201d as its first recommendation."),
    "segments.targets.size": ("回答者の{share}%{weighted}", "{share}% of respondents{weighted}"),
    "segments.targets.small": ("少人数", "small group"),
    "segments.targets.part": ("セグメント{segment}「{name}」({size}; 理由: {reason})", "segment {segment} \u201c{name}\u201d ({size}; reason: {reason})"),
    "segments.targets": ("研修「{opportunity}」の対象は {parts}。", "The training \u201c{opportunity}\u201d is for {parts}."),
    "segments.alt.selection": ("セグメント数ごとの平均シルエット幅・BIC・安定性。", "Mean silhouette width, BIC and stability by number of segments. "),
    "segments.alt.map": ("意欲とスキルの位置。", "Positions on motivation and skill. "),
    "segments.alt.composition": ("所属部署・年代・職層ごとのセグメントの割合。", "Share of each segment by department, age band and grade. "),
    # views.training (notebook 04)
    "training.distribution.none": ("回答者が少ないため分布は表示していません。", "Too few respondents: the distribution is not shown."),
    "training.distribution.part": ("「{label}」{count}人({share})", "\u201c{label}\u201d {count} ({share})"),
    "training.distribution": ("回答の分布は{parts}。{at_least}以上は合わせて{share}({k}/{n}人)。", "Answers: {parts}. {at_least} or higher: {share} together ({k} of {n})."),
    "training.changes.none": ("表示できる項目がありません。", "No item can be shown."),
    "training.changes": ("研修前より回答が上がった人の割合は「{high}」が最も高く{high_share}、最も低い「{low}」で{low_share}。下がった人は各項目{worse_min}〜{worse_max}。",
                         "Share answering higher than before the training: highest for \u201c{high}\u201d ({high_share}), lowest for \u201c{low}\u201d ({low_share}). Lower: {worse_min} to {worse_max} per item."),
    "training.effects.none": ("表示できる結果がありません(人数が少ないため非表示)。", "No result can be shown (hidden: too few people)."),
    "training.effects.ci": ("、95%区間 {low}〜{high}", ", 95% interval {low} to {high}"),
    "training.effects.same_way": ("、変化した人は全員が同じ向きのため区間なし", ", no interval: everyone who changed moved the same way"),
    "training.effects.one": ("「{label}」({value}{ci})", "\u201c{label}\u201d ({value}{ci})"),
    "training.effects": ("最も大きいのは{high}、最も小さいのは{low}。", "Largest: {high}; smallest: {low}. "),
    "training.effects.changed": ("q値が{alpha}未満(変化あり)は{n}件中{k}件。", "{k} of {n} with q below {alpha} (changed). "),
    "training.effects.hidden": ("人数が少ない{n}件は非表示。", "{n} hidden (too few people)."),
    "training.did.none": ("非受講者のデータがないため、差の差は推定できません。", "No data on non-participants: no difference in differences."),
    "training.did.part": ("「{label}」{estimate}{ci}", "\u201c{label}\u201d {estimate}{ci}"),
    "training.did.ci": ("(95%区間 {low}〜{high})", " (95% interval {low} to {high})"),
    "training.did": ("受講者の変化から非受講者の変化を引いた差は{parts}。", "Change of participants minus change of non-participants: {parts}."),
    "training.did.no_comparison": ("研修を受けていない職員の同じ時期の回答がないため、研修前後の変化が研修によるものかどうかは判断できません。変化には、同じ時期の他の出来事や、同じ質問に2回答えたことの影響も含まれている可能性があります。",
                                   "There are no answers from staff who did not attend at the same two times, so the change cannot be attributed to the training: it may also reflect other events or simply answering twice."),
    "training.did.caveat": ("差の差(DID)は、受講者の変化から、同じ期間の非受講者の変化を差し引いた値です。これを研修の効果と読めるのは、研修がなければ両者が同じように変化したはず(平行トレンド)で、もともと伸びやすい人が受講を選んだ(自己選択)のではない場合に限られます。偏りの向きは分からないため、効果の証明ではなく目安として読んでください。",
                            "The difference-in-differences compares the change of participants with the change of non-participants over the same period. It is the training's effect only if both groups would otherwise have changed alike "
                            "(parallel trends) and if attending was not chosen by those who were about to change anyway (self-selection). The direction of any such bias is unknown, so read it as a rough guide, not as proof of an effect."),
    "training.did.item_none": ("「{label}」変化なし", "{label} no change"),
    "training.did.item_share": ("「{label}」{value}ポイント(95%信頼区間 {low}–{high})", "{label} {value} pp (95% CI {low} to {high})"),
    "training.did.item_mean": ("「{label}」{value}点(95%信頼区間 {low}–{high})", "{label} {value} points (95% CI {low} to {high})"),
    "training.did.sep": ("、", "; "),
    "training.did.finding": ("非受講者の変化を差し引いた差(差の差)で、{n}項目中{k}項目は受講者の伸びが大きい: {parts}。両者が研修なしでも同じように変化し(平行トレンド)、伸びやすい人が受講を選んでいない(自己選択がない)ことを仮定した推定です。",
                             "Net of the non-participants' change (difference-in-differences), participants gained more on {k} of {n} items: {parts}. This assumes parallel trends and no self-selection."),
    "training.wave_share": ("{wave}{share}", "{wave} {share}"),
    "training.shares.part": ("「{label}」{seq}", "\u201c{label}\u201d {seq}"),
    "training.shares": ("同じ受講者{n}人の割合の推移: {parts}。", "Shares of the same {n} participants over time: {parts}."),
    "training.title.satisfaction": ("研修の満足度", "Satisfaction with the training"),
    "training.title.effects": ("研修前後の効果量(95%区間)", "Effect sizes before → after (95% interval)"),
    "training.title.target": ("対象セグメントと対象外の効果量", "Effect sizes: target segment and others"),
    "training.alt.satisfaction": ("研修の満足度の棒グラフ。", "Bar chart of satisfaction with the training. "),
    "training.alt.change_shares": ("研修前後で回答が上がった・変わらない・下がった人の割合の帯グラフ。", "Shares of people whose answer went up, stayed, or went down after the training. "),
    "training.alt.effects": ("研修前後の効果量と95%区間。", "Effect sizes before → after with 95% intervals. "),
    "training.alt.target": ("対象セグメントと対象外の受講者の効果量と95%区間。", "Effect sizes of participants in the target segment and outside it, with 95% intervals. "),
    "training.alt.did": ("受講者と非受講者の研修前と研修直後の平均の変化(矢印)。", "Means of participants and non-participants before and right after the training (arrows). "),
    "training.alt.shares_by_wave": ("研修前・直後・フォローアップの肯定的な回答の割合の推移。", "Share of positive answers before, right after and at follow-up. "),
    "training.note.no_followup": ("フォローアップ調査の回答がないため、効果が続いたかどうかは分かりません。研修の2〜3か月後に同じ質問で調査すると確かめられます。",
                                  "No follow-up answers, so whether the effect lasted is not known. A survey with the same questions 2–3 months after the training would tell."),
    "training.method.no_pairs": ("照合できた回答の組がないため検定できません", "no matched pairs: no test possible"),
    "training.method.one_pair": ("回答の組が1組だけのため検定できません", "only one pair: no test possible"),
    "training.method.no_change": ("全員が前後で同じ回答(差がすべて0)のため検定できません", "every pair answered the same twice (all differences 0): no test possible"),
    "training.method.wilcoxon_exact": ("Wilcoxon符号付順位検定(Pratt法、正確法)", "Wilcoxon signed-rank (Pratt, exact)"),
    "training.method.wilcoxon_approx": ("Wilcoxon符号付順位検定(Pratt法、正規近似)", "Wilcoxon signed-rank (Pratt, normal approximation)"),
    "training.method.mcnemar_exact": ("McNemar検定(正確二項検定)", "McNemar (exact binomial)"),
    "training.method.mcnemar_chi2": ("McNemar検定(連続性補正つきカイ二乗)", "McNemar (chi-squared, continuity correction)"),
    "training.method.rank_biserial": ("効果量: 順位双列相関", "effect: matched-pairs rank-biserial (post − pre)"),
    "training.method.diff_share": ("効果量: 「はい」の割合の差", "effect: difference in share 'yes' (post − pre)"),
    "training.method.ci_bootstrap": ("区間: ブートストラップ{n_boot}回", "CI: percentile bootstrap ({n_boot})"),
    "training.method.ci_newcombe": ("区間: Newcombe法(Wilson区間の組合せ)", "CI: Newcombe (1998) method 10"),
    "training.method.ci_none": ("効果量の区間なし(全員が同じ向き)", "no interval for the effect (all changed the same way)"),
    "training.method.no_spread": ("ブートストラップの区間が1点に縮むため、効果量の区間は出しません", "the bootstrap interval collapses to a point: no interval given"),
    "training.method.sep": ("。", "; "),
    "training.same_direction": ("全員が同じ向き(変化した{k}人は全員{dir})。{who} {pct}({num}/{n}人、95%信頼区間 {lo}–{hi}%)",
                                "all changed the same way (all {k} who changed {dir}). {who} {pct} ({num}/{n}, 95% CI {lo}–{hi}%)"),
    "training.same_direction.up": ("上がった", "rose"),
    "training.same_direction.down": ("下がった", "fell"),
    "training.same_direction.who_up": ("上がった人", "rose:"),
    "training.same_direction.who_down": ("下がった人", "fell:"),
    "training.method.no_change_both": ("両群とも全員が前後で同じ回答のため検定できません", "no change in either group: no test possible"),
    "training.same_way": ("全員が同じ向き", "all changed the same way"),
    "training.group.target": ("【対象】{segment} {name}", "[target] {segment} {name}"),
    "training.group.others": ("【対象外】他のセグメント・区分なし", "[others] other segments, unassigned"),
    "training.verdict.held": ("効果が続いている(研修前より高く、直後からの低下は許容幅以内: {post})", "held (above before; any fall since right after is within the margin: {post})"),
    "training.verdict.partly": ("直後より下がったが、研修前よりは高い({post})", "fell from right after, still above before ({post})"),
    "training.verdict.above_pre": ("研修前よりは高い。直後からの低下の有無は判断できない({post})", "above before; whether it fell since right after cannot be judged ({post})"),
    "training.verdict.not_shown": ("研修前との差は確認できない(効果が続いたとは言えない: {pre})", "no difference from before can be shown ({pre})"),
    "training.verdict.below": ("研修前より低い({pre})", "below the level before ({pre})"),
    "training.verdict.untestable": ("検定できない(人数不足または変化なし)", "no test possible"),
    "training.role_missing.satisfaction": ("研修の満足度の設問がないため省略", "Skipped: no satisfaction question"),
    "training.role_missing.attitude": ("研修前後の意識(デジタル化に前向きか)の設問がないため省略", "Skipped: no attitude question"),
    "training.role_missing.planned_action": ("業務の改善のイメージ(行動計画)の設問がないため省略", "Skipped: no planned-action question"),
    "training.role_missing.comment": ("研修の感想の設問がないため省略", "Skipped: no training comment question"),
    "training.rule.yes": ("「{yes}」", "'{yes}'"),
    "training.rule.likert_label": ("{t}〜{max} =「{label}」以上、{n_points}段階", "{t}–{max} ('{label}' or higher, {n_points}-point scale)"),
    "training.rule.likert": ("{t}〜{max}、{n_points}段階", "{t}–{max} ({n_points}-point scale)"),
    "training.headline.satisfied_likert": ("研修に満足({rule})", "satisfied with the training (answered {rule})"),
    "training.headline.satisfied_yes": ("研修に満足(満足度の設問に{rule})", "satisfied with the training (answered {rule})"),
    "training.headline.positive_likert": ("研修後、「{label}」に肯定的({rule})と回答", "after training, answered {rule}: {label}"),
    "training.headline.positive_yes": ("研修後、「{label}」に{rule}と回答", "after training, answered {rule}: {label}"),
    "training.headline.improved": ("研修前より「{label}」の回答が上がった", "answer rose from before: {label}"),
    "training.headline.none": ("該当する項目がありません。", "No such item."),
    "training.share.none": ("{label}: 回答なし", "{label}: no answers"),
    "training.share": ("{label}: {pct}({num}/{n}人、95%信頼区間 {ci}%)", "{label}: {pct} ({num}/{n}, 95% CI {ci}%)"),
    # plots.segments
    "plot.segments.method.kmeans": ("k平均法", "k-means"),
    "plot.segments.method.gmm": ("混合ガウスモデル", "Gaussian mixture"),
    "plot.segments.silhouette": ("平均シルエット幅(大きいほど明確)", "Mean silhouette width (higher: clearer)"),
    "plot.segments.bic": ("BIC(混合ガウスモデル・小さいほど良い)", "BIC (Gaussian mixture; lower is better)"),
    "plot.segments.stability": ("再標本化の安定性 ARI(1 = 毎回同じ)", "Resampling stability ARI (1 = same every time)"),
    "plot.segments.threshold": ("基準 {value} ", "threshold {value} "),
    "plot.segments.k1": ("分けない\n(k=1)", "no segments\n(k=1)"),
    "plot.segments.k_axis": ("セグメント数 k", "Number of segments k"),
    "plot.segments.chosen": (" 選んだ k={k}", " chosen k={k}"),
    "plot.segments.share": ("回答者に占める割合", "Share of respondents"),
    "plot.segments.weighted_ci": ("職員全体の推定割合(重み付け、線は95%信頼区間)", "Estimated share of all staff (weighted; lines: 95% confidence interval)"),
    "plot.segments.weighted": ("職員全体の推定割合(重み付け)", "Estimated share of all staff (weighted)"),
    "plot.segments.share_ci": ("{share}({low}〜{high})", "{share} ({low}–{high})"),
    "plot.segments.z_axis": ("職員平均との差(標準偏差)", "Difference from the staff mean (SD)"),
    "plot.segments.profile_title": ("構成概念の平均点(1〜5点、色は職員全体との差)", "Mean construct scores (1–5; colour: difference from all staff)"),
    "plot.segments.skill_axis": ("スキル(What・How の構成概念、職員平均との差・標準偏差)", "Skill (What and How constructs; difference from the staff mean, SD)"),
    "plot.segments.motivation_axis": ("意欲(マインド・Why、職員平均との差)", "Motivation (mind-set and Why; difference from the staff mean)"),
    "plot.segments.composition_title": ("{attribute}ごとのセグメントの割合", "Share of segments by {attribute}"),
    # plots.training
    "plot.training.count_share": ("{count}人({share})", "{count} ({share})"),
    "plot.training.share_axis": ("割合(縦線は95%信頼区間)", "Share (lines: 95% confidence interval)"),
    "plot.training.worse": ("下がった", "lower"),
    "plot.training.same": ("変わらない", "same"),
    "plot.training.improved": ("上がった", "higher"),
    "plot.training.change_axis": ("研修前と比べた研修後の回答(同じ人の前後を比較)", "Answer after the training compared with before (same people)"),
    "plot.training.effect_axis": ("効果量(事後−事前、0 = 変化なし)", "Effect size (after − before; 0 = no change)"),
    "plot.training.same_way": ("全員が同じ向き(区間なし)", "all moved the same way (no interval)"),
    "plot.training.did_axis": ("平均(点は研修前、矢印の先は研修直後)", "Mean (dot: before; arrow head: right after)"),
    "plot.training.positive_axis": ("肯定的(4・5)または「はい」の割合", "Share positive (4–5) or \u201cyes\u201d"),
    "roadmap.rank": ("{rank}位", "#{rank}"),
    "roadmap.tied": ("(同点)", " (tied)"),
    "roadmap.priorities.item": ("{rank} {item_id} {item}({score}点)", "{rank} {item_id} {item} ({score} points)"),
    "roadmap.priorities": ("優先度が高い項目は {items}。", "Highest priority: {items}."),
    "roadmap.scenarios.pct_sep": ("・", "/"),
    "roadmap.scenarios.sep": ("、", "; "),
    "roadmap.scenarios.weight": ("重み(指数)を1つずつ±{pct}%に: {n}通り", "each weight (exponent) ±{pct}%: {n}"),
    "roadmap.scenarios.rating": ("その項目の重要度・実現容易性の評価を±{step}段階(1〜5の範囲内): {n}通り", "the item's importance or feasibility ±{step} step (within 1–5): {n}"),
    "roadmap.scenarios.survey": ("アンケートから求めた現状レベルを95%信頼区間の下限・上限に: {n}通り", "current levels from the survey at the ends of their 95% confidence interval: {n}"),
    "roadmap.scenarios": ("{n}通りの条件({parts})", "{n} scenarios ({parts})"),
    "roadmap.stability.tried_default": ("試した条件", "scenarios tried"),
    "roadmap.stability.head_top": ("上位{top}項目", "the top {top} items"),
    "roadmap.stability.head_ties": ("{top}位以内の{n}項目(同点を含む)", "the {n} items ranked {top} or better (ties included)"),
    "roadmap.stability.lead": ("試した{tried}では、{head}のうち{n}項目が常に{top}位以内。", "Under the {tried}, {n} of {head} always stay in the top {top}."),
    "roadmap.stability.stable": ("どの条件でも順位が変わらないのは {ids}。", " Same rank under every scenario: {ids}."),
    "roadmap.stability.by": ("、{moved_by}で動く", ", moved by {moved_by}"),
    "roadmap.stability.worst": ("最も動くのは {item_id} {item}({low}〜{high}位{by})。", " Moves most: {item_id} {item} (ranks {low}–{high}{by})."),
    "roadmap.stability.caveat": ("ここで試していない重みや評価では、順位が変わることがあります。", " Weights or ratings not tried here may change the ranks."),
    # views.waves (notebook 06)
    "waves.segment": ("セグメント", "Segment"),
    "waves.change.up": ("上がりました", "Up."),
    "waves.change.down": ("下がりました", "Down."),
    "waves.change.none": ("はっきりした変化はありません", "No clear change."),
    "waves.change.sentence": ("{label}: {fy_from} {estimate_from} → {fy_to} {estimate_to}(変化 {change}、95%信頼区間 {low}〜{high}、q = {q})。{direction}。",
                              "{label}: {fy_from} {estimate_from} → {fy_to} {estimate_to} (change {change}, 95% confidence interval {low} to {high}, q = {q}). {direction}"),
    "waves.change.rest": ("{labels}は、前回との差が偶然の範囲を超えません(q ≥ {q})。", "{labels}: the difference from last time is within chance (q ≥ {q})."),
    "waves.group_change": ("{attribute}「{group}」の{label}: {estimate_from} → {estimate_to}(変化 {change}、95%信頼区間 {low}〜{high})。",
                           "{attribute} \u201c{group}\u201d, {label}: {estimate_from} → {estimate_to} (change {change}, 95% confidence interval {low} to {high})."),
    "waves.shift.none": ("比べられるセグメントがありません。", "No segments to compare."),
    "waves.shift.clear": ("割合がはっきり変わったセグメント: {names}。", " Segments whose share changed clearly: {names}."),
    "waves.shift.no_clear": ("どのセグメントの割合も、前回との差は偶然の範囲を超えません。", " No segment's share differs from last time beyond chance."),
    "waves.shift.sentence": ("職員全体に占める割合(推定): {parts}。{tail}", "Share of all staff (estimate): {parts}.{tail}"),
    "waves.kpi.ci": ("(95%信頼区間 {low}〜{high})", " (95% confidence interval {low} to {high})"),
    "waves.kpi.sentence": ("{measure_id} {measure}: {fy}の実績 {actual}{ci}、計画線上の値 {expected} に対して「{status}」。",
                           "{measure_id} {measure}: result for {fy} {actual}{ci}, planned line {expected}: {status}."),
    "waves.kpi.cell_ci": ("({low}〜{high})", " ({low} to {high})"),
    "waves.findings.no_change": ("構成概念の平均点には、前回からはっきりした変化は見られません。", "No clear change in the construct means since the last survey."),
    "waves.findings.kpi_names": ("({names})", " ({names})"),
    "waves.findings.kpi_part": ("{status} {n}件{names}", "{status} {n}{names}"),
    "waves.findings.kpis": ("KPI({fy}の実績): {parts}。", "KPIs (results of {fy}): {parts}."),
    "waves.estimate_cell": ("{estimate}({low}〜{high}、n={n})", "{estimate} ({low} to {high}, n={n})"),
    "waves.change_cell": ("{change}({low}〜{high})", "{change} ({low} to {high})"),
    "waves.shift_cell": ("{change}({low}〜{high})ポイント", "{change} ({low} to {high}) points"),
    "waves.basis.target": ("その年度の目標", "the year's target"),
    "waves.basis.interpolated": ("基準年の実績と次の目標を結んだ線", "line from the baseline result to the next target"),
    "waves.basis.none": ("—", "—"),
    "waves.status.ahead": ("計画より先行", "ahead"),
    "waves.status.on_track": ("計画どおり", "on track"),
    "waves.status.behind": ("計画より遅れ", "behind"),
    "waves.status.baseline": ("基準年(前回の値)", "baseline"),
    "waves.status.no_target": ("目標なし", "no target"),
    "waves.match.both": ("両方の年度", "both years"),
    "waves.match.added": ("今回から追加", "added this year"),
    "waves.match.dropped": ("今回は削除", "dropped this year"),
    "waves.reworded_mark": ("(設問文の変更あり)", " (reworded)"),
    "waves.alt.changes": ("構成概念ごとの前回からの変化と95%信頼区間。", "Change of each construct since the last survey, with 95% confidence intervals. "),
    # waves.describe_matching (notebook 06)
    "waves.matching.compared": ("両方の年度にある設問・ツール {n} 件を比べます", "{n} items and tools present in both years are compared"),
    "waves.matching.added": ("今回から追加: {labels}(比較なし)", "Added this year: {labels} (not compared)"),
    "waves.matching.dropped": ("今回は削除: {labels}(比較なし)", "Dropped this year: {labels} (not compared)"),
    "waves.matching.reworded": ("設問文が変わったもの: {labels}(id が同じなので同じ設問として比べます)", "Reworded: {labels} (same id, so compared as the same item)"),
    "waves.matching.list_sep": ("、", ", "),
    "waves.matching.sentence_sep": ("。", ". "),
    "waves.matching.end": ("。", "."),
    # views.compare (notebook 05)
    "compare.rates.none": ("表示できる自治体がありません。", "No municipality can be shown."),
    "compare.rates.same": ("回答率はどの自治体も約{rate}%。", "All response rates are about {rate}%."),
    "compare.rates": ("回答率は{low_name}の{low}%から{high_name}の{high}%まで。", "Response rates range from {low}% ({low_name}) to {high}% ({high_name})."),
    "compare.nothing": ("比較できる自治体がありません。", "Nothing to compare."),
    "compare.scores": ("自治体間の差が最も大きいのは{construct}で、{high_name}が{high}、{low_name}が{low}(重み付き平均){tail}",
                       "Municipalities differ most on {construct}: {high_name} {high} vs {low_name} {low} (weighted means){tail}"),
    "compare.scores.overlap": ("。95%信頼区間は重なっており、はっきりした差とはいえません。", "; the 95% intervals overlap."),
    "compare.scores.apart": ("。95%信頼区間は重なっていません。", "; the 95% intervals do not overlap."),
    "compare.shares": ("割合の差が最も大きいのはセグメント{segment}({name})で、{high_name}は{high}%、{low_name}は{low}%。",
                       "The share of segment {segment} ({name}) differs most: {high}% in {high_name} vs {low}% in {low_name}."),
    "compare.reason.different": ("設問(item id)が比較対象の自治体と異なる", "different items from the compared municipalities"),
    "compare.reason.alone": ("同じ設問の自治体がほかにない", "no other municipality asked the same items"),
    "compare.alt.rates": ("自治体別の回答率と95%信頼区間の横棒グラフ。", "Bar chart of response rates by municipality with 95% confidence intervals. "),
    "compare.alt.scores": ("構成概念ごとに自治体の重み付き平均点と95%信頼区間を並べた図。", "Weighted mean score of each municipality by construct, with 95% confidence intervals. "),
    "compare.alt.shares": ("自治体ごとの共通セグメントの割合を示す100%積み上げ横棒グラフ。", "Stacked bars of the shares of the common segments in each municipality. "),
    # shared pieces of sentences
    "list.sep": ("、", ", "),
    "list.dot": ("・", ", "),
    "sentence.sep": ("。", "; "),
    "range": ("{low} 〜 {high}", "{low} to {high}"),
    "range.tight": ("{low}〜{high}", "{low} to {high}"),
    "points": ("{value}ポイント", "{value} points"),
    "versus": ("と", "vs"),
    # views.survey (notebook 01)
    "survey.overall": ("全体", "All staff"),
    "survey.higher": ("高い", "higher"),
    "survey.lower": ("低い", "lower"),
    "survey.rates.chart": ("{names}別の回答率と95%信頼区間の横棒グラフ。", "Bar chart of response rates by {names}, with 95% confidence intervals. "),
    "survey.rates.overall": ("全体の回答率は{rate}。", "Overall response rate {rate}. "),
    "survey.rates.none": ("表示できる集団がありません。", "No group can be shown."),
    "survey.rates.range": ("最も高いのは{high}({high_rate})、最も低いのは{low}({low_rate})。", "Highest: {high} ({high_rate}); lowest: {low} ({low_rate})."),
    "survey.rates.low_group": ("{attribute}{group}({rate})", "{attribute}{group} ({rate})"),
    "survey.rates.low_warning": ("回答率が{threshold}未満の集団があります: {names}。これらの集団の結果は、回答した一部の職員の傾向に偏っているおそれがあります。全職員の推定は名簿への重み付けで補正しています。",
                                 "Some groups answered at under {threshold}: {names}. Their results may lean towards the few who answered. Estimates for all staff are corrected by weighting to the roster."),
    "survey.margins": ("重み付けに使った職員名簿の属性: {names}{tail}。", "Roster attributes the weights reproduce: {names}{tail}."),
    "survey.margins.one": ("(1つだけなので、この属性の集団ごとの人数に合わせる事後層化と同じです)", " (one attribute only: the same as post-stratification)"),
    "survey.weighted.none": ("推定できる構成概念がありません。", "No construct can be estimated."),
    "survey.weighted.alt": ("重み付けで平均が最も動くのは{label}({unweighted}→{weighted}、差{diff})。重みによるデザイン効果は{deff}(有効回答者数は約{n_eff}人相当)。",
                            "Weighting moves the mean of {label} most ({unweighted} → {weighted}, difference {diff}). The design effect of the weights is {deff} (about {n_eff} effective respondents)."),
    "survey.statistic.mean": ("平均点(1〜5)", "Mean score (1–5)"),
    "survey.statistic.share_positive": ("肯定的な回答の割合", "Share of positive answers"),
    "survey.statistic.share_using": ("利用している割合", "Share using"),
    "survey.reliability.none": ("α係数を計算できる構成概念がありません。", "No construct has an alpha."),
    "survey.reliability.low": ("0.6未満は{labels}。", "Below 0.6: {labels}."),
    "survey.reliability.all_ok": ("すべて0.6以上。", "All are 0.6 or higher."),
    "survey.reliability.alt": ("α係数は{low}の{low_alpha}から{high}の{high_alpha}。{tail}", "Cronbach's alpha ranges from {low_alpha} ({low}) to {high_alpha} ({high}). {tail}"),
    "survey.alpha_note.one_item": ("設問が1つのため計算できません(α係数は2問以上の構成概念で定義されます)", "Not computed: one item only (alpha needs two items or more)"),
    "survey.alpha_note.few": ("回答者が3人未満のため計算できません", "Not computed: fewer than 3 respondents"),
    "survey.alpha_note.no_variance": ("回答のばらつきがないため計算できません", "Not computed: all answers are the same"),
    "survey.items.none": ("表示できる項目がありません。", "No item can be shown."),
    "survey.items.alt": ("{n}項目の回答分布。肯定的な回答(ややそう思う・とてもそう思う)が最も多いのは「{high}」({high_share})、最も少ないのは「{low}」({low_share})。",
                         "Answers to {n} items. Most positive answers (agree somewhat or strongly): \u201c{high}\u201d ({high_share}); fewest: \u201c{low}\u201d ({low_share})."),
    "survey.differences.none": ("表示している{n}の組み合わせで、全体との明確な差(q<{q})はありません。", "None of the {n} combinations shown differs clearly from all staff (q<{q})."),
    "survey.differences.count": ("{n}の組み合わせのうち{n_clear}で全体との明確な差(q<{q})。", "{n_clear} of {n} combinations differ clearly from all staff (q<{q}). "),
    "survey.differences.lowest": ("最も低いのは{group}の{construct}({diff})。", "Lowest: {construct} of {group} ({diff}). "),
    "survey.differences.highest": ("最も高いのは{group}の{construct}({diff})。", "Highest: {construct} of {group} ({diff})."),
    "survey.needs.gap": ("{label}({diff}点)", "{label} ({diff} points)"),
    "survey.needs.fits": (" → 合う機会: {names}", " → opportunities that fit: {names}"),
    "survey.needs.finding": ("{attribute}「{group}」(n={n})は、{gaps}が全体よりはっきり低い(q<{q}){tail}。",
                             "{attribute} \u201c{group}\u201d (n={n}) is clearly below all staff (q<{q}) in {gaps}{tail}."),
    "survey.hypotheses.rest": ("{group}以外", "staff other than {group}"),
    "survey.hypotheses.note.few_respondents": ("人数が少ないため判定しない", "too few respondents for a verdict"),
    "survey.hypotheses.note.no_interval": ("一方の全員が他方の全員より高い(または全員が同じ値)ため、信頼区間は計算できない",
                                           "everyone on one side is above everyone on the other (or all answers are the same), so there is no confidence interval"),
    "survey.hypotheses.note.response_rates": ("回答率の差が大きい({group_rate}と{versus_rate})。答えた人が職員を代表していない可能性がある",
                                              "response rates differ strongly ({group_rate} and {versus_rate}); those who answered may not represent the staff"),
    "survey.hypotheses.note.clear_but_small": ("差ははっきりしているが小さい(|r|<{margin})", "the difference is clear but small (|r|<{margin})"),
    "survey.hypotheses.caveat": ("ただし回答率が{group}は{group_rate}、{versus}は{versus_rate}と大きく違い、答えた人が職員全体を代表していない可能性があります。",
                                 " Note: response rates differ strongly ({group} {group_rate}, {versus} {versus_rate}), so those who answered may not represent all staff."),
    "survey.hypotheses.count_part": ("{verdict}{n}件", "{n} {verdict}"),
    "survey.hypotheses.counts": ("事前仮説{n}件のうち、{parts}。", "Of {n} prior hypotheses: {parts}."),
    "survey.hypotheses.opposite": ("このデータでは予想と逆({id}): 「{statement}」とは逆に、{group}のほうが{versus}より{direction}(効果量 r={r}、95%信頼区間 {low}〜{high}〔多重比較の補正なし〕、q{q})。",
                                   "The opposite of what was expected ({id}): contrary to \u201c{statement}\u201d, {group} scored {direction} than {versus} (effect size r={r}, "
                                   "95% confidence interval {low} to {high} [not adjusted for multiple comparisons], q{q})."),
    "survey.hypotheses.small": ("予想した差はほとんどない({id}): 「{statement}」について、{group}と{versus}の差は小さい(効果量 r={r}、90%信頼区間 {low}〜{high} が±{margin}の内側)。",
                                "Hardly any of the expected difference ({id}): for \u201c{statement}\u201d, the difference between {group} and {versus} is small (effect size r={r}; "
                                "its 90% confidence interval {low} to {high} lies within ±{margin})."),
    "survey.hypotheses.none": ("事前仮説は登録されていません。", "No prior hypotheses are registered."),
    "survey.hypotheses.alt_item": ("{id}は{verdict}", "{id}: {verdict}"),
    "survey.hypotheses.alt_sep": ("、", "; "),
    "survey.hypotheses.opposite_short": ("このデータでは予想と逆(反証)", "refuted"),
    "survey.hypotheses.alt": ("各仮説の効果量(予想した方向を右)と95%信頼区間(多重比較の補正なし)。{verdicts}。",
                              "Effect size of each hypothesis (expected direction to the right) with its 95% confidence interval (not adjusted for multiple comparisons). {verdicts}."),
    "survey.tools.none": ("ツール利用の回答がありません。", "No answers on tool use."),
    "survey.tools.alt": ("最も使われているのは{high}({high_share})、最も少ないのは{low}({low_share})。", "Most used: {high} ({high_share}); least used: {low} ({low_share})."),
    "hidden": ("非表示(少人数)", "hidden (small group)"),
    "note.no_tools": ("デジタルツールの利用についての設問がないため省略", "Omitted: the survey has no question on digital tools"),
    "note.no_free_text": ("自由記述の設問がないため省略", "Omitted: the survey has no free-text question"),
    "survey.tools.by_group": ("属性ごとのツール利用割合。", "Tool use by attribute. "),
    # plots.survey (axis labels, legends)
    "plot.response_rate": ("回答率", "Response rate"),
    "plot.with_ci": ("{label}(横線は95%信頼区間)", "{label} (lines: 95% confidence interval)"),
    "plot.reversed": ("(逆転項目)", " (reversed)"),
    "plot.likert_axis": ("← 否定的な回答   回答の割合(数字は%)   肯定的な回答 →", "← negative answers   share of answers (numbers in %)   positive answers →"),
    "plot.alpha_threshold": (" {threshold}未満は要注意", " below {threshold}: take care"),
    "plot.alpha_axis": ("α係数(横線は95%信頼区間・Feldt法)", "Cronbach's alpha (lines: 95% confidence interval, Feldt)"),
    "plot.unweighted": ("回答者そのまま(重みなし)", "Respondents as they are (unweighted)"),
    "plot.weighted": ("職員名簿に重み付け(全職員の推定)", "Weighted to the staff roster (estimate for all staff)"),
    "plot.weighted_share_axis": ("割合(横線は重み付け推定の95%信頼区間)", "Share (lines: 95% confidence interval of the weighted estimate)"),
    "plot.weighted_mean_axis": ("構成概念の平均点(1〜5、横線は重み付け推定の95%信頼区間)", "Mean construct score (1–5; lines: 95% confidence interval of the weighted estimate)"),
    "plot.diff_axis": ("全体との差(点)", "Difference from all staff (points)"),
    "plot.equivalence_band": ("差は小さいとみなす範囲(|r|<{margin})", "Range taken as a small difference (|r|<{margin})"),
    "plot.refuted": ("反証(予想と逆)", "refuted (opposite)"),
    "plot.hypotheses_axis": ("← 予想と逆     効果量(順位双列相関 r)     予想どおり →\n細い線: 95%信頼区間(多重比較の補正なし)  太い線: 90%信頼区間(「差は小さい」の判定用)",
                             "← opposite of expected     effect size (rank-biserial r)     as expected →\nthin line: 95% confidence interval (not adjusted for multiple comparisons)  thick line: 90% interval (for \u201csmall difference\u201d)"),
    "plot.share_n": ("{share}(n={n})", "{share} (n={n})"),
    "plot.share_using": ("利用している割合", "Share using"),
    "plot.percent_hidden": ("(数字は%、—は非表示)", " (numbers in %; — hidden)"),
    "plot.hidden_dash": ("(—は非表示)", " (— hidden)"),
    "plot.mean": ("平均点", "Mean score"),
    "plot.tool": ("ツール", "Tool"),
    "plot.waves.clear": ("はっきりした変化(q < {q})", "clear change (q < {q})"),
    "plot.waves.chance": ("偶然の範囲", "within chance"),
    "plot.waves.change_axis": ("前回からの変化(平均点)", "Change since the last survey (mean score)"),
    "plot.waves.share_axis": ("職員全体に占める割合(推定、%)", "Share of all staff (estimate, %)"),
    "plot.compare.weighted_mean": ("平均点(職員構成で重み付け)", "Mean score (weighted to the staff make-up)"),
    # plots.roadmap
    "plot.roadmap.current": ("現状(平均)", "Current (mean)"),
    "plot.roadmap.target": ("3年後の目標(平均)", "Target in 3 years (mean)"),
    "plot.roadmap.domain": ("{domain}({n}項目)", "{domain} ({n} items)"),
    "plot.roadmap.level_axis": ("成熟度レベル(0=未着手 … 3=全庁的 … 5=先進的)", "Maturity level (0 = not started … 3 = organisation-wide … 5 = advanced)"),
    "plot.roadmap.importance_axis": ("重要度(1=低い … 5=高い)", "Importance (1 = low … 5 = high)"),
    "plot.roadmap.gap_axis": ("ギャップ(目標レベル − 現状レベル)", "Gap (target level − current level)"),
    "plot.roadmap.weight_scenario": ("{name}の重み {change}", "weight of {name} {change}"),
    "plot.roadmap.rating_scenario": ("{name}の評価 {change}(その項目のみ)", "rating of {name} {change} (that item only)"),
    "plot.roadmap.survey_upper": ("アンケートの現状レベル 区間の上限", "current level from the survey: upper end of its interval"),
    "plot.roadmap.survey_lower": ("アンケートの現状レベル 区間の下限", "current level from the survey: lower end of its interval"),
    "plot.roadmap.top": ("← {top}位以内", "← top {top}"),
    "plot.roadmap.rank_axis": ("順位(左ほど優先度が高い。同点は同じ順位)", "Rank (higher priority to the left; ties share a rank)"),
    "plot.roadmap.base_rank": ("選んだ重みでの順位", "Rank with the chosen weights"),
    "plot.roadmap.late": ("前提の{dependency}は{start}開始", "prerequisite {dependency} starts {start}"),
    "plot.roadmap.needs": ("(前提: {ids})", " (needs {ids})"),
    "plot.roadmap.period": ("実施期間", "Period"),
    "plot.roadmap.late_legend": ("前提の打ち手が後から始まる(要見直し)", "Prerequisite starts later (review)"),
    # explore (the explorer of notebook 01 and the offline explorer of its HTML; explore.WORDS is built from these)
    "explore.range_sep": ("〜", " to "),
    "explore.score": ('得点', 'Score'),
    "explore.construct_prefix": ('構成概念', 'Construct'),
    "explore.item_prefix": ('項目', 'Item'),
    "explore.tool_prefix": ('ツール', 'Tool'),
    "explore.reverse": ('(逆)', ' (reversed)'),
    "explore.other_items": ('その他の設問', 'Other questions'),
    "explore.tools": ('ツールの利用', 'Tool use'),
    "explore.measure": ('指標', 'Measure'),
    "explore.attribute": ('属性', 'Attribute'),
    "explore.sort": ('並べ方', 'Order'),
    "explore.sort_none": ('集団の順', 'Group order'),
    "explore.sort_desc": ('高い順', 'Highest first'),
    "explore.sort_asc": ('低い順', 'Lowest first'),
    "explore.group": ('グループ', 'Group'),
    "explore.n": ('回答者数', 'Respondents'),
    "explore.mean": ('平均(1〜5)', 'Mean (1-5)'),
    "explore.share": ('利用している割合', 'Share using'),
    "explore.ci": ('95%信頼区間', '95% interval'),
    "explore.dist": ('否定的 / 中立 / 肯定的', 'Negative / neutral / positive'),
    "explore.bar": ('図', 'Chart'),
    "explore.hidden": ('非表示(少人数)', 'Hidden (small group)'),
    "explore.overall": ('全体', 'All staff'),
    "explore.caption": ('{measure}({attribute}別)', '{measure} by {attribute}'),
    "explore.chart_title": ("{measure}({attribute}別{where})", "{measure} by {attribute}{where}"),
    "explore.chart_where": ("、{where}", "; {where}"),
    "explore.alt_label": ("{measure}({where})", "{measure} ({where})"),
    "explore.alt.none": ("{measure}を{attribute}別に示す図。表示できる集団がありません。", "{measure} by {attribute}. No group can be shown."),
    "explore.alt": ("{measure}を{attribute}別に示す図。最も高いのは{high}({high_value})、最も低いのは{low}({low_value})。",
                    "{measure} by {attribute}. Highest: {high} ({high_value}); lowest: {low} ({low_value})."),
    "explore.title": ('自由に探索する(このページの中で切り替え)', 'Explore (switch views on this page)'),
    "explore.lead": ('指標と属性を選ぶと、集団ごとの表が切り替わります。すべての組み合わせを事前に集計してこのファイルに入れてあるため、ネットワークにつながっていなくても動きます。回答者が少ない集団は「非表示(少人数)」と表示し、数値を出しません。', 'Choose a measure and an attribute to switch the table. Every combination is precomputed in this file, so it works without a network. Groups with too few respondents are shown as hidden, without numbers.'),
    "explore.noscript": ('この表を切り替えるには JavaScript を有効にしてください。最初の組み合わせ(上の表)だけを表示しています。すべての組み合わせは表計算ソフトで開ける tables/ フォルダにはありません。', 'Enable JavaScript to switch this table; only the first view (above) is shown.'),
    "explore.legend": ('棒の長さは平均点(1〜5)または割合。項目の棒は左から否定的・中立・肯定的な回答の割合。', 'Bar length: mean score (1-5) or share. Item bars: negative, neutral, positive answers from the left.'),
    "explore.filter": ('絞り込み', 'Filter'),
    "explore.filter_all": ('すべて', 'All'),
    "explore.compare": ('比べる', 'Compare'),
    "explore.compare_none": ('(比べない)', '(none)'),
    "explore.diff": ('差(A − B)', 'Difference (A − B)'),
    "explore.save": ('この表示を保存(CSV・PNG)', 'Save this view (CSV, PNG)'),
    "explore.saved": ('保存しました: {path}', 'Saved: {path}'),
    "explore.filtered_hidden": ('絞り込んだ集団は回答者が少ないため表示できません。', 'The filtered group has too few respondents to show.'),
    "explore.no_view": ('表示できる集団がありません。', 'No group can be shown.'),
    # hypothesis verdicts (survey.test_hypotheses stores the code)
    "verdict.supported": ("支持", "supported"),
    "verdict.refuted": ("反証", "refuted"),
    "verdict.equivalent": ("差は小さい", "equivalent (small difference)"),
    "verdict.inconclusive": ("判定不能", "inconclusive"),
    # titles passed by notebooks (pub.text("…"))
    "title.free_comments": ("自由意見", "Free comments"),
    "title.training_comments": ("研修の感想", "Comments on the training"),
    # report shell
    "report.toc": ("目次", "Contents"),
    "report.nav_index": ("← レポート一覧と要点", "← Summary and reports"),
    "report.nav_glossary": ("用語の説明", "Glossary"),
    "report.glossary": ("用語の説明", "Glossary"),
    "report.summary": ("要点", "Summary"),
    "report.reports": ("レポート一覧", "Reports"),
    "report.more_findings": ("その他の要点", "More findings"),
    "report.evidence": ("根拠を見る", "evidence"),
    "report.col_report": ("レポート", "Report"),
    "report.col_status": ("状態", "Status"),
    "report.title": ("{name} DXリテラシー分析レポート", "{name} DX literacy report"),
    "report.intro": ("職員アンケート・ギャップ分析・研修評価の結果です。まず「要点」を読み、詳しくは各レポートの「根拠を見る」から確かめてください。",
                     "Results of the staff survey, gap analysis and training evaluation. Read the summary first; each point links to its evidence."),
    "report.hidden_note": ("「非表示(少人数)」の行は、回答者が少なく個人が特定されるおそれがあるため数値を表示していません(合計から逆算できないよう、必要に応じて他の行も非表示にしています)。",
                           "Rows marked hidden have too few respondents to show (another row may be hidden so the value cannot be recovered from a total)."),
}

#: caption of each shared table, by the table's name → (ja, en)
TABLE_CAPTIONS: dict[str, tuple[str, str]] = {
    # 01
    "hypotheses_view": ("事前仮説の判定", "Prior hypotheses: verdicts"),
    "support_needs": ("全体より低い集団と、合う機会", "Groups below all staff, and opportunities that fit"),
    "response_rates_view": ("属性別の回答率", "Response rates by attribute"),
    "exclusions_view": ("除外と欠測", "Exclusions and missing answers"),
    "reliability_view": ("構成概念の信頼性(α係数)", "Reliability of the constructs (Cronbach's alpha)"),
    "alpha_if_dropped": ("設問を除いた場合のα係数", "Alpha if an item is dropped"),
    "weighted_estimates_view": ("重みなしと重み付き(全職員推定。設問ごとの値は weighted_estimates.csv)",
                                "Unweighted and weighted (estimates for all staff; item values in weighted_estimates.csv)"),
    "group_differences_clear": ("全体との差がはっきりしている集団(q < 0.05)", "Groups clearly different from all staff (q < 0.05)"),
    # 02
    "segment_selection_view": ("セグメント数ごとの基準", "Criteria by number of segments"),
    "segments": ("セグメントの大きさと構成概念の平均点", "Segment sizes and mean construct scores"),
    "segment_names": ("名称の根拠", "Basis of the names"),
    "segment_tool_use": ("セグメントごとのツール利用の割合", "Tool use by segment"),
    "segment_opportunities": ("セグメントごとに勧める機会", "Opportunities recommended for each segment"),
    # 03
    "roadmap_inputs": ("読み込んだ内容", "Inputs read"),
    "survey_levels_view": ("構成概念の平均と0〜5レベルへの換算({weight_note})", "Construct means and their 0–5 levels (estimates for all staff, weighted to the staff roster)"),
    "domain_gaps": ("領域ごとの現状・目標・ギャップ(項目の平均)", "Current, target and gap by area (mean of items)"),
    "priority_weights_view": ("優先度スコアの重み(指数)と感度分析で試した値", "Weights (exponents) of the priority score and values tried in the sensitivity analysis"),
    "gap_scores": ("評価項目ごとのギャップと優先度(順位順)", "Gap and priority of each item (by rank)"),
    "rank_sensitivity_summary": ("上位{top_n}位以内の項目の、条件を変えたときの順位の範囲(各条件の順位は tables/rank_sensitivity.csv)",
                                 "Range of ranks of the top {top_n} items under changed assumptions (each scenario in tables/rank_sensitivity.csv)"),
    "roadmap_overview": ("打ち手の一覧(実施期間・対象)", "Measures (period, targets)"),
    "dependency_check_view": ("前提関係のチェック", "Prerequisite check"),
    "kpi_targets": ("KPIの年度別目標", "KPI targets by fiscal year"),
    # 04
    "training_headlines": ("研修の成果(見出し)", "Training results (headlines)"),
    "training_matching": ("研修前後の回答の照合(人数・件数)", "Matching answers before and after (people, answers)"),
    "training_satisfaction": ("研修の満足度(受講者、研修直後)", "Satisfaction with the training (participants, right after)"),
    "training_paired_tests": ("研修前後の変化(受講者、同じ人の前後を比較)", "Change from before to after (participants, same people compared)"),
    "training_idea_by_wave": ("「{item}」に肯定的に答えた割合(受講者)", "Share answering \u201c{item}\u201d positively (participants)"),
    "training_by_segment": ("セグメント別の研修前後の変化(受講者)", "Change from before to after by segment (participants)"),
    "training_did": ("差の差(受講者の変化 − 非受講者の変化)", "Difference in differences (change of participants − change of non-participants)"),
    "training_followup": ("フォローアップでの変化(受講者)", "Change at follow-up (participants)"),
    "training_followup_verdicts": ("効果は続いたか(項目ごとの判定)", "Did the effect last? (verdict per item)"),
    "training_shares_by_wave": ("肯定的(尺度の中央より上)または「はい」の割合の推移(3回とも回答した受講者)",
                                "Share positive (above the middle of the scale) or \u201cyes\u201d over time (participants who answered all three times)"),
    "training_comment_count": ("研修の感想の記入数(受講者、研修直後)", "Comments on the training (participants, right after)"),
    # 05
    "municipalities": ("比較する自治体", "Municipalities compared"),
    "response_rates": ("自治体別の回答率", "Response rates by municipality"),
    "construct_scores_matrix": ("構成概念の重み付き平均点(1〜5点)", "Weighted mean construct scores (1–5)"),
    "segment_shares_matrix": ("共通セグメントの割合(回答者に占める割合)", "Shares of common segments (share of respondents)"),
    # 06
    "wave_items_view": ("片方の年度にしかない設問・設問文が変わった設問", "Items in one year only, and reworded items"),
    "wave_estimates": ("年度ごとの推定値(構成概念の平均点・ツールの利用割合)", "Estimates by year (construct means, tool use)"),
    "wave_changes": ("前回からの変化(構成概念・ツール。設問ごとの値は tables/wave_changes.csv)",
                     "Change since the last survey (constructs, tools; items in tables/wave_changes.csv)"),
    "wave_changes_by_group": ("属性・セグメント別の構成概念の平均点の変化(95%信頼区間、○ははっきりした変化)",
                              "Change of construct means by attribute and segment (95% confidence interval; ○ clear change)"),
    "segment_shift": ("セグメントの割合(職員全体の推定)", "Segment shares (estimate for all staff)"),
    "kpi_progress": ("KPIの実績と計画線", "KPI results and planned line"),
}

#: English column headers by column id; ``"<table>.<column>"`` overrides for one table.
COLUMN_LABELS_EN: dict[str, str] = {
    "n": "Respondents", "staff": "Staff", "respondents": "Respondents", "share": "Share", "response_rate": "Response rate",
    "ci_low": "95% CI (lower)", "ci_high": "95% CI (upper)", "attribute": "Attribute", "attribute_label": "Attribute", "group": "Group",
    "construct": "Construct", "item": "Item", "item_id": "Item id", "label": "Name", "mean": "Mean", "diff": "Difference from all",
    "effect_size": "Effect size", "p_value": "p-value", "q_value": "q-value", "alpha": "Alpha", "n_items": "Items",
    "weighted_share": "Weighted share", "unweighted_share": "Unweighted share", "verdict": "Verdict", "verdict_label": "Verdict",
    "statement": "Hypothesis", "hypothesis_id": "Hypothesis id", "segment": "Segment", "segment_name": "Segment", "name": "Name",
    "low_response": "Low response rate", "reason": "Reason", "count": "Count", "suppressed": "Hidden", "description": "Description",
    "rows": "Rows excluded", "answers": "Answers treated as missing", "value": "Count / value", "note": "Note", "notes": "Notes",
    "n_group": "Respondents (group)", "n_versus": "Respondents (comparison)", "estimate": "Estimate", "unweighted": "Unweighted",
    "weighted": "Weighted", "se": "Standard error", "design_effect": "Design effect", "n_effective": "Effective respondents",
    "measure": "Measure", "measure_id": "Measure id", "kpi": "KPI", "fiscal_year": "Fiscal year", "fy_label": "Fiscal year",
    "period": "Period", "depends_on": "Needs", "dependency": "Prerequisite", "dependency_flag": "Prerequisite starts later",
    "starts_later": "Prerequisite starts later", "segments": "Target segments", "segment_names": "Target segments",
    "item_names": "Assessment items", "domain": "Area", "current": "Current", "target": "Target", "gap": "Gap",
    "importance": "Importance", "feasibility": "Feasibility", "priority": "Priority", "rank": "Rank", "tied": "Tied",
    "level": "Level", "level_low": "Level (lower)", "level_high": "Level (upper)", "items": "Assessment items",
    "n_pairs": "Matched pairs", "share_improved": "Higher", "share_same": "Same", "share_worse": "Lower", "ci_note": "Interval note",
    "method": "Method", "statistic": "Statistic", "numerator": "Count", "wave": "Wave", "wave_label": "Time", "n_comments": "Comments",
    "n_participants": "Participants", "n_non_participants": "Non-participants", "change_participants": "Change (participants)",
    "change_non_participants": "Change (non-participants)", "std_error": "Standard error", "comparison_label": "Comparison",
    "effect_pre_followup": "Effect before → follow-up", "effect_post_followup": "Effect right after → follow-up",
    "ci_low_post_followup": "95% interval (lower), right after → follow-up", "ci_high_post_followup": "95% interval (upper), right after → follow-up",
    "verdict_text": "Verdict", "municipality": "Municipality", "change": "Change", "clear": "Clear change",
    "fy_from": "From (FY)", "fy_to": "To (FY)", "n_from": "Respondents (from)", "n_to": "Respondents (to)",
    "share_from": "Share (from)", "share_to": "Share (to)", "estimate_from": "Estimate (from)", "estimate_to": "Estimate (to)",
    "actual": "Result", "expected": "Planned", "expected_basis": "Basis of the plan", "status": "Status", "source": "Source",
    "k": "Segments (k)", "silhouette": "Mean silhouette width", "bic": "BIC", "stability": "Stability (ARI)", "stable": "Stable",
    "n_using": "Users", "tool_id": "Tool id", "opportunity": "Opportunity", "coverage": "Share of weakness covered",
    "alpha_if_dropped": "Alpha if dropped", "motivation": "Motivation", "skill": "Skill",
    "addresses": "Constructs it develops", "alpha_ci": "95% CI of alpha", "area": "Area (DX literacy standard)", "auto_name": "Automatic name",
    "base_rank": "Rank (chosen weights)", "chosen": "Chosen", "compared": "Compared with", "comparison": "Comparison (respondents)",
    "construct_label": "Construct", "current_mean": "Current (mean)", "current_source": "Source of the current level",
    "deff": "Design effect", "dependency_end_fy": "Prerequisite ends (FY)", "dependency_measure": "Prerequisite",
    "dependency_start_fy": "Prerequisite starts (FY)", "difference": "Difference", "effect_ci": "95% CI of the effect size (not adjusted for multiple comparisons)",
    "end_fy": "End (FY)", "evidence": "Evidence", "flag_low": "Alpha < 0.6 (care)", "format": "Format", "gap_max": "Gap (largest)",
    "gap_mean": "Gap (mean)", "group_share": "Share of the group", "grouping_label": "Comparison", "header_before": "Question last time",
    "header_changed": "Question reworded", "header_now": "Question this time", "high": "Sensitivity (increased)", "in_period": "Within the period",
    "kind": "Kind", "low": "Sensitivity (decreased)", "margin": "Tolerated fall", "match": "Matched", "mean_after": "Mean (after)",
    "mean_before": "Mean (before)", "mean_change": "Change of the mean", "mean_ci_high": "95% CI of the mean (upper)",
    "mean_ci_low": "95% CI of the mean (lower)", "method_label": "Method", "motivation_level": "Motivation level",
    "motivation_z": "Motivation (difference from staff mean)", "moved_by": "Rank moved by", "n_eff": "Effective respondents",
    "n_improved": "Higher (people)", "n_same": "Same (people)", "n_segmented": "Respondents segmented", "n_smaller_group": "Smaller group (people)",
    "n_weighted": "Respondents used for weighting", "n_worse": "Lower (people)", "non_participant": "Non-participants",
    "opportunities": "Opportunities that fit (training etc.)", "owner": "Owner", "participant": "Participants", "priority_score": "Priority score",
    "quadrant": "Quadrant", "r_drop": "Correlation with the rest", "rank_max": "Lowest rank", "rank_min": "Highest rank",
    "rank_range": "Range of ranks", "rating_ranks": "Ratings of the item changed", "response_rates": "Response rates (group vs comparison)",
    "reverse": "Reversed item", "score": "Match", "skill_level": "Skill level", "skill_z": "Skill (difference from staff mean)",
    "stability_ari": "Stability (mean ARI)", "stability_sd": "Stability (SD of ARI)", "start_fy": "Start (FY)", "status_label": "Status",
    "stays_top": "Stays in the top under every scenario", "survey_ranks": "Both ends of the survey interval", "target_mean": "Target (mean)",
    "top_item": "Highest-priority item", "total": "Total", "unweighted_mean": "Mean (unweighted)", "value_group": "Value (group)",
    "value_versus": "Value (comparison)", "values": "Values (group vs comparison)", "versus": "Compared with", "weak_constructs": "Weak constructs",
    "weight": "Weight", "weight_ranks": "Weights (exponents) changed", "weighted_ci": "95% CI of the weighted estimate",
    "weighted_ci_high": "95% CI of the estimated share (upper)", "weighted_ci_low": "95% CI of the estimated share (lower)",
    "weighted_mean": "Mean (estimate for all staff)",
    # display views that still name their columns in Japanese (waves.*_view): headers by that name
    "指標": "Measure", "集計": "Statistic", "前回": "Last time", "今回": "This time", "変化(95%信頼区間)": "Change (95% CI)",
    "q値": "q-value", "はっきりした変化": "Clear change", "属性": "Attribute", "区分": "Group", "セグメント": "Segment",
    "前回の割合": "Share last time", "今回の割合": "Share this time", "打ち手": "Measure", "年度": "Fiscal year",
    "実績(95%信頼区間)": "Result (95% CI)", "計画線上の値": "On the planned line", "根拠": "Basis", "次の目標": "Next target",
    "判定": "Status", "設問": "Item", "対応": "Matched", "前回の設問文": "Question last time", "今回の設問文": "Question this time",
    "tool_use_view.label": "Tool", "segment_tool_use.label": "Tool", "segment_tool_use.group": "Segment",
    "alpha_if_dropped.label": "Construct", "dependency_check_view.dependency": "Prerequisite",
}


def t(key: str, language: str = "ja", **params) -> str:
    """The text of ``key`` in ``language`` (``ja`` when unknown), placeholders filled."""
    pair = TEXT[key]
    text = pair[1 if language == "en" else 0]
    return text.format(**params) if params else text


def caption(name: str, language: str = "ja", default: str | None = None, **params) -> str | None:
    """Caption of table ``name``: the catalogue's in ``language`` (or ``default`` when it has none)."""
    pair = TABLE_CAPTIONS.get(name)
    if pair is None:
        return default
    text = pair[1 if language == "en" else 0]
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return default if default is not None else text


def column_label(column: str, table: str | None = None) -> str | None:
    """English header of ``column`` (``table``'s override first), or None."""
    if table and f"{table}.{column}" in COLUMN_LABELS_EN:
        return COLUMN_LABELS_EN[f"{table}.{column}"]
    return COLUMN_LABELS_EN.get(column)


def english_labels(columns, passed: dict | None = None, table: str | None = None) -> dict:
    """Headers of an English table: the catalogue's, else the passed label if it is not Japanese, else the id."""
    passed = dict(passed or {})
    out = {}
    for c in columns:
        label = column_label(str(c), table)
        if label is None:
            given = passed.get(c)
            label = given if given is not None and not JAPANESE.search(str(given)) else None
        if label is not None:
            out[c] = label
        elif c in passed:
            out[c] = passed[c]  # a data value used as a header (e.g. a segment or fiscal-year label)
    return out


def has_japanese(text) -> bool:
    return bool(JAPANESE.search(str(text)))


# ------------------------------------------------------------------ notebook prose
def source_hash(source: str) -> str:
    return hashlib.sha1(source.strip().encode("utf-8")).hexdigest()[:12]


@lru_cache(maxsize=1)
def _notebook_text() -> dict:
    return yaml.safe_load(NOTEBOOK_TEXT_EN.read_text(encoding="utf-8")) or {}


def notebook_prose(notebook: str, cell_id: str, language: str = "ja") -> str | None:
    """English prose of one markdown cell (None in Japanese or when there is none)."""
    if language != "en":
        return None
    entry = (_notebook_text().get(notebook) or {}).get(cell_id)
    return entry.get("en") if entry else None


def _rehash(notebooks_dir: Path) -> None:
    import json

    data = yaml.safe_load(NOTEBOOK_TEXT_EN.read_text(encoding="utf-8"))
    text = NOTEBOOK_TEXT_EN.read_text(encoding="utf-8")
    for path in sorted(Path(notebooks_dir).glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] != "markdown" or cell.get("id") not in (data.get(path.stem) or {}):
                continue
            h = source_hash("".join(cell["source"]))
            # rewrite the line after "  <id>:" (ja_sha1 kept on the line before en:)
            pattern = re.compile("(\n  \"" + re.escape(cell["id"]) + "\":\n)(    ja_sha1: \"?\\w+\"?\n)?")
            text = pattern.sub(lambda m, h=h: f'{m.group(1)}    ja_sha1: "{h}"\n', text, count=1)
    NOTEBOOK_TEXT_EN.write_text(text, encoding="utf-8")
    _notebook_text.cache_clear()


if __name__ == "__main__":
    import sys

    if "--rehash" in sys.argv:
        _rehash(Path(__file__).resolve().parents[1] / "notebooks")
        print(f"updated {NOTEBOOK_TEXT_EN}")
